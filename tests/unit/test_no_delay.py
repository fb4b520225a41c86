import socket

from pytest_wasm_tune.services.no_delay import NoDelayListener, no_delay


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_the_listener_hands_out_connections_that_send_at_once() -> None:
    with NoDelayListener(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as client:
            conn, _ = listener.accept()
            with conn:
                assert _nodelay(conn)
                assert not _nodelay(client), "only what the listener accepts is changed"
                no_delay(client)
                assert _nodelay(client)
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"


def test_no_delay_leaves_a_socket_that_is_not_tcp_alone() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        no_delay(udp)
    left, right = socket.socketpair()
    with left, right:
        no_delay(left)
        left.sendall(b"x")
        assert right.recv(1) == b"x"
