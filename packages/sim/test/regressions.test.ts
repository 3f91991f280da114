// Every seed that ever failed, kept forever. Add a seed here with a note on the bug it found.
import { seedSuite } from './seed-suite.ts'

seedSuite(
  [
    // A node behind by one height got the decided block and its certificate from a peer, but
    // the reducer counted the certificate's precommits only where it had no vote of its own
    // (an equivocator's other vote blocked one): it never reached 2/3 and stalled forever.
    4, 8, 15, 24, 37, 41, 55,
    // Evidence committed in a block was checked against the app instance that had restarted
    // (its in-memory record of slashes was gone); the check now reads the committed state.
    39,
  ],
  'kv',
)

seedSuite(
  [
    // An amnesiac validator re-proposed and re-voted at round 0 after a restart. An honest node that
    // saw its other prevote first never counted the one the rest counted, so it could not see the
    // proof-of-lock the others were locked on and prevoted nil in every later round: no progress.
    // Votes now count per block (equivocators under each block they voted for), as in the paper.
    14,
  ],
  'chain',
)
