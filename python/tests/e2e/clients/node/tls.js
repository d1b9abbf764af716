// How the node sessions reach a cluster: http://, or over TLS when the suite runs over TLS
// (ETCDLAB_TLS=1 gives every client the test CA and a client certificate as ETCDCTL_CACERT,
// ETCDCTL_CERT and ETCDCTL_KEY, as etcdctl reads them).
'use strict';

const fs = require('fs');

function hostsAndCredentials(endpoints) {
  const ca = process.env.ETCDCTL_CACERT;
  if (!ca) return { hosts: endpoints.map((e) => `http://${e}`) };
  const credentials = { rootCertificate: fs.readFileSync(ca) };
  if (process.env.ETCDCTL_CERT) {
    credentials.certChain = fs.readFileSync(process.env.ETCDCTL_CERT);
    credentials.privateKey = fs.readFileSync(process.env.ETCDCTL_KEY);
  }
  return { hosts: endpoints.map((e) => `https://${e}`), credentials };
}

module.exports = { hostsAndCredentials };
