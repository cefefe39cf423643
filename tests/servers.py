"""A local HTTP server for the download tests: files served from memory on 127.0.0.1, never the network."""
import http.server, re, threading


class Server:
    "Serve `files` (name -> bytes) on 127.0.0.1 with HTTP Range support; the first response of each name in `cut` stops half-way."
    def __init__(self, files, cut=()):
        self.files, self.cut = dict(files), set(cut)
        self.log, self.requests = [], []          # names asked for; (name, Range header) pairs
        srv = self
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name, rng = self.path.lstrip('/'), self.headers.get('Range')
                srv.log.append(name); srv.requests.append((name, rng))
                if name not in srv.files: return self.send_error(404)
                data = srv.files[name]
                start = int(re.match(r'bytes=(\d+)-', rng).group(1)) if rng else 0
                self.send_response(206 if rng else 200)
                if rng: self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
                self.send_header('Content-Length', str(len(data) - start)); self.end_headers()
                body = data[start:]
                if name in srv.cut: srv.cut.discard(name); body = body[:len(body) // 2]
                self.wfile.write(body)
            def log_message(self, *a): pass
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def __enter__(self): return self
    def __exit__(self, *a): self.httpd.shutdown(); self.httpd.server_close()
