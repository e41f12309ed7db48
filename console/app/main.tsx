import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { DeadLettersView } from './views/dead-letters';
import { DeliveriesView } from './views/deliveries';
import { OverviewView } from './views/overview';
import { ParityView } from './views/parity';
import { ReconciliationView } from './views/reconciliation';
import { RejectionsView } from './views/rejections';
import { ReviewView } from './views/review';
import { SourcesView } from './views/sources';

const VIEWS = [
  ['overview', 'Overview'],
  ['deliveries', 'Deliveries'],
  ['rejections', 'Rejections'],
  ['review', 'Review'],
  ['dead-letters', 'Dead letters'],
  ['reconciliation', 'Reconciliation'],
  ['parity', 'Parity'],
  ['sources', 'Sources'],
] as const;
type ViewName = (typeof VIEWS)[number][0];

/** `#/deliveries/evt_1` as the view and what it opens; anything else is the overview. */
function route(hash: string): { view: ViewName; detail: string | undefined } {
  const [name = '', detail] = hash.replace(/^#\/?/, '').split('/');
  const view = VIEWS.find(([candidate]) => candidate === name)?.[0] ?? 'overview';
  return { view, detail: detail === undefined ? undefined : decodeURIComponent(detail) };
}

function App() {
  const [current, setCurrent] = useState(() => route(location.hash));
  useEffect(() => {
    const follow = () => setCurrent(route(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => {
    const label = VIEWS.find(([name]) => name === current.view)?.[1];
    document.title = `${label} · ParitySync console`;
  }, [current.view]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>ParitySync</h1>
        <nav aria-label="Views">
          {VIEWS.map(([name, label]) => (
            <a key={name} href={`#/${name}`} aria-current={name === current.view ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <View name={current.view} detail={current.detail} />
      </main>
    </>
  );
}

function View({ name, detail }: { name: ViewName; detail: string | undefined }) {
  switch (name) {
    case 'overview':
      return <OverviewView />;
    case 'deliveries':
      return <DeliveriesView key={detail} selected={detail} />;
    case 'rejections':
      return <RejectionsView />;
    case 'review':
      return <ReviewView />;
    case 'dead-letters':
      return <DeadLettersView />;
    case 'reconciliation':
      return <ReconciliationView />;
    case 'parity':
      return <ParityView key={detail} property={detail} />;
    case 'sources':
      return <SourcesView />;
  }
}

const root = document.getElementById('app');
if (root) {
  root.replaceChildren();
  render(<App />, root);
}
