import { SequentialBuffer } from 'expbuf';

const buffer = new SequentialBuffer({ obs: { dtype: 'float32', shape: [4] } }, 10);
// #region readme
import { ExpbufError, isExpbufError } from 'expbuf';

try {
  buffer.add({ obs: [1, 2, 3] });                // one element short
} catch (e) {
  if (isExpbufError(e) && e.code === 'EXPBUF_BAD_VALUE') {
    console.log(e.message);                      // "field 'obs': expected 4 elements, got 3" (or so)
  } else throw e;
}
try {
  buffer.sample(8);                              // nothing held yet
} catch (e) {
  console.log(e instanceof ExpbufError, (e as ExpbufError).code);   // true EXPBUF_EMPTY
}
// #endregion readme
