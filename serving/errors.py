"""The one exception a request handler raises to refuse a request."""


class RequestError(Exception):
    """A request the server refuses, with the HTTP status code that says why.

    Attributes:
        message: What was wrong with the request, worded for the person who sent it.
        status_code: The 4xx HTTP status code of the answer.
    """

    def __init__(self, message: str, status_code: int = 400):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
