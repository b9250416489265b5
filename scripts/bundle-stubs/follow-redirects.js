// Stand-in for `follow-redirects` in the SCF bundles. axios takes its transports at load time but uses them only
// when redirects are followed; the push client sets `maxRedirects: 0`, so axios uses Node's http/https directly.
'use strict';
module.exports = { http: require('http'), https: require('https') };
