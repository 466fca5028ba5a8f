"""The classic: greet somebody a number of times."""

from prefect import flow


@flow(name="hello", log_prints=True)
def hello(number: int, name: str) -> str:
    """Say hello.

    Args:
        number: How many times to say it.
        name: Whom to greet.
    """
    message = f"Hello {name}! " * number
    print(message)
    return message.strip()
