// Entry point of `vigil/instrument`:
//   node --import vigil/instrument app.js     (ESM or CommonJS app)
//   node -r vigil/instrument app.js           (CommonJS preload; Node >= 20.19 loads this ES module via require)
// No top-level await, so that `require()` can load it.

import { start } from './start.js';

start();
