// The chat page: pick a name, then chat with everyone else who did.
//
// Events to the server (config/adapter.py maps each to an action of controller/chat.py):
//   addUser(name), newMessage(text), typing(), stopTyping()
// Events from the server:
//   login {username, numUsers, users} to me, once my name is accepted (users: who was here)
//   loginError {message}              to me, when it is not
//   userJoined / userLeft {username, numUsers}
//   newMessage {username, message}    from the others (the server never echoes mine)
//   typing / stopTyping {username}
//
// User text only ever goes into the page as text (textContent), never as HTML.
(function () {
  'use strict';

  var TYPING_IDLE_MS = 1000; // "X is typing" ends after this long without a keystroke

  // ?transports=polling, ?transports=websocket or ?transports=polling,websocket (the default).
  var params = new URLSearchParams(location.search);
  var transports = (params.get('transports') || 'polling,websocket')
    .split(',')
    .map(function (t) { return t.trim(); })
    .filter(function (t) { return t === 'polling' || t === 'websocket'; });
  if (!transports.length) transports = ['polling', 'websocket'];

  var $ = function (id) { return document.getElementById(id); };
  var loginSection = $('login');
  var loginForm = $('login-form');
  var nameInput = $('name');
  var loginError = $('login-error');
  var chatSection = $('chat');
  var messages = $('messages');
  var typingLine = $('typing');
  var sendForm = $('send-form');
  var messageInput = $('message');
  var participants = $('participants');
  var transportPill = $('transport');

  var username = null; // set once the server accepted it
  var typing = false; // am I telling the others that I type?
  var lastKeystroke = 0;
  var typists = []; // who the server says is typing, in order

  var socket = io({ transports: transports });

  // -- what the page shows ---------------------------------------------------------------

  function showTransport(name) {
    transportPill.textContent = name;
    transportPill.className = 'pill transport ' + name;
    transportPill.dataset.transport = name;
  }

  function showCount(n) {
    var text = n === 1 ? '1 participant' : n + ' participants';
    participants.textContent = text;
    participants.dataset.count = String(n);
    participants.hidden = false;
    return text;
  }

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  // A hue per name, so the same person keeps the same color.
  function colorOf(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
    return 'hsl(' + h + ', 55%, 40%)';
  }

  function addMessage(from, text, mine) {
    var li = document.createElement('li');
    li.className = 'message' + (mine ? ' mine' : '');
    var who = document.createElement('span');
    who.className = 'who';
    who.textContent = from;
    who.style.color = colorOf(from);
    var body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    li.append(who, body);
    messages.append(li);
    scrollDown();
  }

  // A centered line; `parts` are strings, or {name} for a highlighted name.
  function addNotice(parts, kind) {
    var li = document.createElement('li');
    li.className = 'notice' + (kind ? ' ' + kind : '');
    parts.forEach(function (part) {
      if (typeof part === 'string') {
        li.append(document.createTextNode(part));
      } else {
        var b = document.createElement('span');
        b.className = 'name';
        b.textContent = part.name;
        li.append(b);
      }
    });
    messages.append(li);
    scrollDown();
  }

  function renderTyping() {
    var text = '';
    if (typists.length === 1) text = typists[0] + ' is typing…';
    else if (typists.length === 2) text = typists[0] + ' and ' + typists[1] + ' are typing…';
    else if (typists.length > 2) text = 'Several people are typing…';
    typingLine.textContent = text;
  }

  function setTypist(name, on) {
    typists = typists.filter(function (n) { return n !== name; });
    if (on) typists.push(name);
    renderTyping();
  }

  // -- my typing -------------------------------------------------------------------------

  function stopTyping() {
    if (typing) {
      typing = false;
      socket.emit('stopTyping');
    }
  }

  messageInput.addEventListener('input', function () {
    if (!username || !socket.connected) return;
    if (!messageInput.value) return stopTyping();
    if (!typing) {
      typing = true;
      socket.emit('typing');
    }
    lastKeystroke = Date.now();
    setTimeout(function () {
      if (typing && Date.now() - lastKeystroke >= TYPING_IDLE_MS) stopTyping();
    }, TYPING_IDLE_MS + 20);
  });

  // -- forms -----------------------------------------------------------------------------

  loginForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var name = nameInput.value.trim();
    if (!name) return;
    loginError.textContent = '';
    socket.emit('addUser', name);
  });

  sendForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = messageInput.value;
    // Offline, the text stays in the box: sent now, it would reach the server before my name.
    if (!text.trim() || !username || !socket.connected) return;
    stopTyping();
    socket.emit('newMessage', text);
    addMessage(username, text, true);
    messageInput.value = '';
    messageInput.focus();
  });

  // -- the server ------------------------------------------------------------------------

  // Each (re)connection makes a new Engine.IO transport: show which one, and its upgrade.
  socket.io.on('open', function () {
    var engine = socket.io.engine;
    showTransport(engine.transport.name);
    engine.on('upgrade', function (transport) { showTransport(transport.name); });
  });

  socket.on('connect', function () {
    // After a reconnection the server no longer knows my name: tell it again.
    if (username) {
      socket.emit('addUser', username);
    }
  });

  socket.on('disconnect', function (reason) {
    showTransport('offline');
    typists = [];
    renderTyping();
    typing = false;
    if (username) addNotice(['You are disconnected (' + reason + '); reconnecting…'], 'warn');
  });

  // "Alice is here.", "Alice and Carol are here.", "Alice, Carol and 2 others are here."
  function whoIsHere(names) {
    if (!names.length) return ['You are the first one here.'];
    var shown = names.slice(0, names.length > 3 ? 2 : 3);
    var rest = names.length - shown.length;
    var parts = [];
    shown.forEach(function (name, i) {
      if (i > 0) parts.push(i === shown.length - 1 && !rest ? ' and ' : ', ');
      parts.push({ name: name });
    });
    if (rest) parts.push(' and ' + rest + ' others');
    parts.push(names.length === 1 ? ' is here.' : ' are here.');
    return parts;
  }

  socket.on('login', function (data) {
    var first = username === null;
    username = data.username;
    document.body.dataset.username = username;
    showCount(data.numUsers);
    if (first) {
      loginSection.hidden = true;
      chatSection.hidden = false;
      addNotice(['Welcome to thinkio chat, ', { name: username }, '!']);
      messageInput.focus();
    } else {
      addNotice(['Reconnected.']);
    }
    addNotice(whoIsHere(data.users || []));
  });

  socket.on('loginError', function (data) {
    if (username) {
      // Reconnected, but the name is not ours any more: pick another one.
      username = null;
      chatSection.hidden = true;
      loginSection.hidden = false;
    }
    loginError.textContent = data && data.message ? String(data.message) : 'That name was refused.';
    nameInput.focus();
  });

  socket.on('userJoined', function (data) {
    addNotice([{ name: data.username }, ' joined · ' + showCount(data.numUsers)], 'joined');
  });

  socket.on('userLeft', function (data) {
    setTypist(data.username, false);
    addNotice([{ name: data.username }, ' left · ' + showCount(data.numUsers)], 'left');
  });

  socket.on('newMessage', function (data) {
    setTypist(data.username, false);
    addMessage(data.username, data.message, false);
  });

  socket.on('typing', function (data) { setTypist(data.username, true); });
  socket.on('stopTyping', function (data) { setTypist(data.username, false); });
})();
