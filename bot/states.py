"""FSM state groups of the dialogs. Only ids and typed values live in FSM data; the language lives in the DB."""

from aiogram.fsm.state import State, StatesGroup


class AddProperty(StatesGroup):
    name = State()
    address = State()
    timezone = State()
    checkin_time = State()
    checkout_time = State()
    capacity = State()
    currency = State()
    building_contact_name = State()
    building_email = State()


class EditProperty(StatesGroup):
    value = State()


class AddFeed(StatesGroup):
    url = State()


class NewStay(StatesGroup):
    property = State()
    check_in = State()
    check_out = State()
    confirm = State()  # the dates are taken: save anyway, change them, or cancel
    guest = State()


class MoveStay(StatesGroup):
    check_in = State()
    check_out = State()
    confirm = State()


class FillDetail(StatesGroup):
    value = State()


class AddGuest(StatesGroup):
    name = State()
    document = State()


class ResolveConflict(StatesGroup):
    note = State()


class DefaultRate(StatesGroup):
    value = State()


class FreeDates(StatesGroup):
    check_in = State()
    check_out = State()


class DocumentDialog(StatesGroup):
    answer = State()  # data: booking_id, kind, lang, fmt, need


class DocumentDetail(StatesGroup):
    value = State()  # data: property_id, key


class TemplateUpload(StatesGroup):
    choose = State()  # data: file_id, file_name


class MailInput(StatesGroup):
    addresses = State()  # data: property_id
    body = State()  # data: property_id


class TurnoverPhoto(StatesGroup):
    photo = State()  # data: turnover_id
