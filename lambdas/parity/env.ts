import { environmentReader } from '../config/bootstrap';
import { ARI_STATE, PARITY_FINDINGS } from '../shared/topology';

/** Parity on change's environment: the ARI table it reads a changed night from and the findings table it writes. */
export const readParityEnvironment = environmentReader('parity', 'parity-on-change function', {
  tables: { ari: ARI_STATE, parity: PARITY_FINDINGS },
});
