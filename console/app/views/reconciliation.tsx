import { api } from '../api';
import { ErrorNote, Section, useLoad } from '../ui';

/**
 * The read API has no route for reconciliation runs, drift, silent misses or the audit of overwritten values:
 * this view says so, and shows what reconciliation works on and leaves that the API does expose.
 */
export function ReconciliationView() {
  const sources = useLoad(() => api.sources(), []);
  return (
    <Section title="Reconciliation">
      <p class="notice-static">
        The read API exposes no reconciliation runs yet: runs per source, drift over time against the
        threshold, silent misses and the audit of overwritten values need read routes before this view can
        show them. Run one now with <code>paritysync reconcile</code>; its parity findings show under{' '}
        <a href="#/parity">Parity</a>.
      </p>
      <ErrorNote error={sources.error} />
      <h3>Sources</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Source</th>
            <th scope="col">Kind</th>
            <th scope="col">Held</th>
          </tr>
        </thead>
        <tbody>
          {sources.data?.items.map((source) => (
            <tr key={source.sourceId}>
              <td>{source.sourceId}</td>
              <td>{source.kind}</td>
              <td>{source.held ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
