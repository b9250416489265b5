// Stand-in for Node's `http2` in the SCF bundles. axios requires it at load time (about 25 ms of every cold
// start) but uses it only for requests made with `httpVersion: 2`; the push URL is plain HTTP/1.1.
'use strict';
exports.constants = {};
exports.connect = function connect() {
  throw new Error('http2 is not included in this bundle (see scripts/bundle-stubs)');
};
