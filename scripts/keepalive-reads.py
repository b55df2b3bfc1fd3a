#!/usr/bin/env python3
"""Sends GET <path> eight times on one kept-alive connection and prints, for each response, the
reads it took to arrive (bytes, milliseconds since the request was sent) and its framing.
A response written as head-then-body behind Nagle's algorithm shows as two reads ~40 ms apart.

    scripts/keepalive-reads.py 127.0.0.1 3000 /api/version
"""
import socket
import sys
import time

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = socket.create_connection((host, port))
for i in range(8):
    sent = time.perf_counter()
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    reads, data = [], b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        reads.append((len(chunk), round((time.perf_counter() - sent) * 1000, 2)))
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = head.decode("latin-1").lower()
        if "content-length:" in headers:
            length = int(headers.split("content-length:")[1].split("\r\n")[0])
            if len(body) >= length:
                break
        elif body.endswith(b"0\r\n\r\n"):
            break
    framing = "content-length" if "content-length:" in headers else "chunked"
    print(i, reads, framing)
