"""The one exception type the command line turns into a one-line message."""


class SynflairError(ValueError):
    """Bad input: a file, field or configuration key that is not what was expected.

    The message names the file, DICOM attribute or config key and says what
    was expected. The command line prints it on one line and exits with 2.
    """
