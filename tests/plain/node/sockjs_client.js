// One real sockjs-client (npm) for tests/plain/test_sockjs_type.py, driven by lines of JSON.
//
//   node sockjs_client.js URL TRANSPORT
//
// stdout, one JSON object a line: {"open": transport}, {"message": data}, {"close": [code, reason]}
// stdin, one JSON object a line:  {"send": text} sends text as it is; {"close": true} closes.
'use strict';

const SockJS = require('sockjs-client');
const readline = require('readline');

const [url, transport] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const sock = new SockJS(url, null, { transports: [transport], timeout: 8000 });
sock.onopen = () => out({ open: sock.transport });
sock.onmessage = (e) => out({ message: e.data });
sock.onclose = (e) => {
  out({ close: [e.code, e.reason] });
  process.exit(0);
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if ('send' in cmd) sock.send(cmd.send);
  if (cmd.close) sock.close();
});
