"""The chat's WebSocket settings (ThinkJS: src/config/adapter.js).

Each event the page sends runs one action of controller/chat.py: "/chat/newMessage" runs
new_message_action (the action name in snake_case, then "_action").
"""

websocket = {
    "type": "socketio",
    "socketio": {
        "path": "/socket.io",
        "messages": {
            "addUser": "/chat/addUser",  # the page picked a name
            "newMessage": "/chat/newMessage",  # a chat line
            "typing": "/chat/typing",  # the user is typing...
            "stopTyping": "/chat/stopTyping",  # ...and stopped (idle, or sent the line)
            "close": "/chat/close",  # the page went away
        },
    },
}
