"""The one exception type for input data the pipeline cannot use.

Every importer and the data root check raise `DataError` with a message that lets a person find
the problem without a debugger: the file, the line or record, the feature or column, and what is
wrong with it. The command line turns it into `error: <message>` and exit status 2.
"""


class DataError(ValueError):
    """Input data is missing, malformed or outside what the pipeline accepts."""
