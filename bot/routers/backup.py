"""/backup: the newest backup archive, as a file in the owner's chat (the daily job makes them)."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import FSInputFile, Message

from bot.i18n import _
from bot.services import Services
from storage.backup import latest
from storage.models import User, whole_installation

TELEGRAM_FILE_LIMIT = 50 * 1024 * 1024  # what a bot may send as a document


async def backup(message: Message, user: User, services: Services) -> None:
    if not whole_installation(user):
        await message.answer(_("Only the owner can download backups."))
        return
    folder = services.settings.resolved_backup_dir
    archive = await asyncio.to_thread(latest, folder)
    if archive is None:
        await message.answer(
            _(
                "There is no backup yet. One is made every night; the server's operator can make "
                "one now with <code>lumina backup</code>."
            )
        )
        return
    size = (await asyncio.to_thread(archive.stat)).st_size
    if size > TELEGRAM_FILE_LIMIT:
        await message.answer(
            _(
                "The newest backup ({mb} MB) is larger than Telegram lets a bot send. It is on the server: {path}"
            ).format(mb=size // 2**20, path=archive)
        )
        return
    caption = _("Newest backup: {name}").format(name=archive.name)
    await message.answer_document(FSInputFile(archive), caption=caption)


def get_router() -> Router:
    router = Router(name="backup")

    router.message.register(backup, Command("backup"))

    return router
