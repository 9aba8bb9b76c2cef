"""Upload limits and the one way an uploaded image reaches a service."""

from dataclasses import dataclass

from kernel.errors import ApplicationError

MAX_IMAGE_BYTES = 10 * 2**20
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class ImageUpload:
    """An uploaded file's name and bytes, as the service receives it from a form or the API."""

    name: str
    data: bytes

    @classmethod
    def from_file(cls, file) -> "ImageUpload":
        """Read an uploaded file, refusing one over the size limit before reading it."""
        if file.size > MAX_IMAGE_BYTES:
            raise ApplicationError(
                f"{file.name} is {file.size / 2**20:.1f} MB; images may be at most "
                f"{MAX_IMAGE_BYTES // 2**20} MB. Nothing was uploaded.",
                extra={"file": file.name},
            )
        return cls(name=file.name, data=file.read())
