"""What a refused change says on an incident page: each message, with its field where it has one."""

from django.core.exceptions import ValidationError


def errors_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {m}" if field != "__all__" else m
            for field, ms in error.message_dict.items()
            for m in ms
        ]
    return list(error.messages)


def form_errors_of(form) -> list[str]:
    return [f"{field}: {m}" if field != "__all__" else m for field, ms in form.errors.items() for m in ms]
