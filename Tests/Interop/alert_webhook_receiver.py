"""A webhook receiver as a municipality's warning system would run one: checks Stellwerk's alert
signature and keeps the verified events.

Usage: python alert_webhook_receiver.py HOST PORT SECRET EVENTS_FILE
Listens on HOST:PORT. A POST whose X-Stellwerk-Signature is "sha256=" + HMAC-SHA256(SECRET,
X-Stellwerk-Timestamp + "." + body) is answered 204 and its JSON appended as one line to
EVENTS_FILE; any other request is answered 401 and recorded as the line "REJECTED".
"""
import hashlib
import hmac
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

host, port, secret, events = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("X-Stellwerk-Timestamp", "")
        expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        given = self.headers.get("X-Stellwerk-Signature", "")
        with open(events, "a") as out:
            if hmac.compare_digest(expected, given):
                out.write(body.decode() + "\n")
                self.send_response(204)
            else:
                out.write("REJECTED\n")
                self.send_response(401)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer((host, port), Receiver).serve_forever()
