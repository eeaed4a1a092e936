"""``python -m submit.fake``: run the local EvoLink until interrupted."""

from preflight.command import run_command

from ..cli import fake_server

if __name__ == "__main__":
    run_command(fake_server, "submit fake-server")
