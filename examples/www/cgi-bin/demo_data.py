"""Where the demo's scripts keep data (guestbook entries, uploads): $CGIHTTP_DEMO_DATA, or a
directory private to the user the scripts run as. A module, not a script: it is not
executable, so a request for it is refused (403)."""
import os
import stat
import tempfile


def data_directory():
    """$CGIHTTP_DEMO_DATA, or <tmp>/cgihttp-demo-<uid> made 0700 and checked to be ours (a
    fixed name in a shared /tmp could otherwise be someone else's directory or symlink)."""
    configured = os.environ.get('CGIHTTP_DEMO_DATA')
    if configured:
        return configured
    path = os.path.join(tempfile.gettempdir(), 'cgihttp-demo-%d' % os.getuid())
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SystemExit('%s is not a private directory of this user' % path)
    return path
