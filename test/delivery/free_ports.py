#!/usr/bin/python3
"""free_ports.py — prints N TCP ports of 127.0.0.1 from FIRST..LAST that nobody listens on.

    /usr/bin/python3 free_ports.py N FIRST LAST [EXCLUDE...]

For the acceptance checks (64-66): their servers take ports from the range assigned to them and
skip ports that another process on the machine already holds. Exits 1 when fewer than N are free.
"""
import socket
import sys


def free(port):
    """True when the port can be bound on 127.0.0.1 now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    """Prints the first N free ports of the range, space-separated."""
    n, first, last = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    exclude = {int(p) for p in sys.argv[4:]}
    ports = [p for p in range(first, last + 1) if p not in exclude and free(p)][:n]
    if len(ports) < n:
        sys.exit(1)
    print(" ".join(map(str, ports)))


if __name__ == "__main__":
    main()
