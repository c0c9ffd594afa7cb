"""Run a command on a real pseudo-terminal, press Ctrl-C once `wait_for` appears, print its output and exit code.

usage: pty-run.py WAIT_FOR TIMEOUT_SECONDS CMD [ARGS...]
The terminal is 120x40, or reports no size at all when PTY_NO_SIZE is set (as some ptys do).
"""
import fcntl, os, pty, select, struct, sys, termios, time

wait_for, timeout, cmd = sys.argv[1].encode(), float(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    if not os.environ.get('PTY_NO_SIZE'):
        fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
    os.execvp(cmd[0], cmd)

out, pressed, deadline = b'', False, time.time() + timeout
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not pressed and wait_for in out:
        os.write(fd, b'\x03')
        pressed = True
else:
    os.kill(pid, 9)

_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.stdout.write('\nEXIT=%d\n' % (os.waitstatus_to_exitcode(status)))
