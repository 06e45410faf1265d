"""Every sentence the screens show, in Vietnamese first and English second."""

from __future__ import annotations

from datetime import datetime

STRINGS: dict[str, tuple[str, str]] = {
    "idle.rate": ("Đánh giá sự phục vụ", "Rate our service"),
    "idle.rate_hint": ("Chạm để cho biết Ông/Bà có hài lòng không", "Tap to tell us how we did"),
    "idle.catalog": ("Tra cứu thủ tục hành chính", "Look up a procedure"),
    "idle.catalog_hint": ("Giấy tờ cần chuẩn bị, các bước, thời hạn, lệ phí",
                          "Documents, steps, time limits and fees"),
    "idle.on_duty": ("Công chức đang tiếp nhận", "Officer on duty"),
    "idle.no_officer": ("Chưa chọn công chức trực", "No officer chosen yet"),
    "idle.hotline": ("Đường dây nóng", "Hotline"),
    "idle.complaints": ("Tiếp nhận phản ánh, kiến nghị", "Complaints and suggestions"),
    "lang.vi": ("Tiếng Việt", "Tiếng Việt"),
    "lang.en": ("English", "English"),
    "rating.question": ("Ông/Bà có hài lòng với sự phục vụ hôm nay không?",
                        "Are you satisfied with our service today?"),
    "rating.hint": ("Chạm vào một khuôn mặt", "Tap one face"),
    "rating.error": ("Chưa lưu được đánh giá. Xin chạm lại, hoặc báo cán bộ tại quầy.",
                     "The rating could not be saved. Please tap again, or tell the officer."),
    "back": ("Quay lại", "Back"),
    "home": ("Về màn hình chính", "Back to start"),
    "followup.step": ("Câu {n}/{total}", "Question {n} of {total}"),
    "followup.skip": ("Bỏ qua", "Skip"),
    "followup.send": ("Gửi", "Send"),
    "followup.yes": ("Có", "Yes"),
    "followup.no": ("Không", "No"),
    "followup.procedure_title": ("Thủ tục", "Your procedure"),
    "followup.procedure": ("Hôm nay Ông/Bà đến làm thủ tục gì? (không bắt buộc)",
                           "Which procedure did you come for today? (optional)"),
    "followup.comment_title": ("Góp ý thêm", "Anything else?"),
    "followup.comment": ("Ông/Bà có góp ý gì thêm không? (không bắt buộc)",
                         "Anything else you would like to tell us? (optional)"),
    "followup.comment_hint": ("Gõ kiểu Telex: dduwowngf → đường", "Telex typing: dduwowngf → đường"),
    "followup.callback": ("Tôi muốn được liên hệ lại", "Please contact me"),
    "followup.callback_hint": ("Xin ghi số điện thoại hoặc email vào góp ý",
                               "Write your phone number or e-mail in the comment"),
    "thanks.title": ("Xin cảm ơn Ông/Bà!", "Thank you!"),
    "thanks.saved": ("Ý kiến của Ông/Bà đã được ghi nhận.", "Your opinion has been recorded."),
    "thanks.reference": ("Số phiếu đánh giá", "Rating reference"),
    "thanks.hotline": ("Cần phản ánh, kiến nghị? Gọi đường dây nóng", "Need to complain? Call the hotline"),
    "print.button": ("In phiếu", "Print a slip"),
    "print.retry": ("In lại", "Try again"),
    "print.printing": ("Đang in phiếu…", "Printing your slip…"),
    "print.done": ("Mời Ông/Bà nhận phiếu ở khe máy in.", "Please take your slip from the printer."),
    "print.failed": ("Xin lỗi, máy in đang gặp sự cố. Đánh giá của Ông/Bà đã được ghi nhận.",
                     "Sorry, the printer has a problem. Your rating has been recorded."),
    "catalog.hint": ("Gõ tên hoặc mã thủ tục, không cần dấu", "Type a procedure's name or code"),
    "catalog.fields": ("Lĩnh vực", "Fields"),
    "catalog.found": ("{n} thủ tục", "{n} procedure(s)"),
    "catalog.none": ("Không tìm thấy. Thử gõ ít chữ hơn, hoặc chọn lĩnh vực.",
                     "Nothing found. Try fewer letters, or choose a field."),
    "catalog.empty": ("Chưa có danh mục thủ tục trên máy này.", "No procedure catalog on this kiosk yet."),
    "catalog.show_keyboard": ("Hiện bàn phím", "Show keyboard"),
    "catalog.hide_keyboard": ("Ẩn bàn phím", "Hide keyboard"),
    "procedure.code": ("Mã thủ tục", "Code"),
    "procedure.online": ("Nộp được trực tuyến", "Can be done online"),
    "procedure.scan": ("Quét để nộp trực tuyến", "Scan to apply online"),
    "procedure.scan_page": ("Quét để xem trên Cổng\u00a0DVC", "Scan for the portal page"),
    "procedure.scan_forms": ("Quét để tải mẫu đơn", "Scan for the forms"),
    "procedure.documents": ("Hồ sơ cần nộp", "Documents"),
    "procedure.steps": ("Các bước", "Steps"),
    "procedure.time_fees": ("Thời hạn, phí", "Time and fees"),
    "procedure.requirements": ("Điều kiện", "Requirements"),
    "procedure.results": ("Kết quả", "Result"),
    "procedure.legal": ("Căn cứ pháp lý", "Legal basis"),
    "procedure.form": ("Mẫu: {form}", "Form: {form}"),
    "procedure.time_limit": ("Thời hạn: {time}", "Time limit: {time}"),
    "procedure.fees": ("Phí, lệ phí: {fees}", "Fees: {fees}"),
    "procedure.not_published": ("(Chưa có thông tin; hỏi cán bộ tại quầy.)", "(Not published; ask at the counter.)"),
    "procedure.back": ("Danh sách thủ tục", "Back to the list"),
    "procedure.print": ("In phiếu hướng dẫn", "Print the guide"),
    "procedure.print_done": ("Mời nhận phiếu ở khe máy in.", "Please take the slip from the printer."),
    "procedure.print_failed": ("Xin lỗi, máy in đang gặp sự cố.", "Sorry, the printer has a problem."),
    "procedure.print_busy": ("Máy in đang bận, xin thử lại sau ít giây.", "The printer is busy; try again shortly."),
    "pin.title": ("Nhập mã PIN nhân viên", "Enter the staff PIN"),
    "pin.wrong": ("Sai mã PIN. Còn {n} lần thử.", "Wrong PIN. {n} tries left."),
    "pin.locked": ("Tạm khoá. Thử lại sau {n} giây.", "Locked. Try again in {n} seconds."),
    "pin.clear": ("Xoá", "Clear"),
    "pin.ok": ("Mở", "Open"),
    "pin.cancel": ("Huỷ", "Cancel"),
    "staff.title": ("Chế độ nhân viên", "Staff mode"),
    "staff.on_duty": ("Chọn công chức đang trực", "Choose the officer on duty"),
    "staff.today": ("Đánh giá hôm nay", "Ratings today"),
    "staff.total": ("Tổng", "Total"),
    "staff.queue": ("Chờ đồng bộ: {n} bản ghi", "Waiting to sync: {n} record(s)"),
    "staff.device": ("Mã thiết bị", "Device ID"),
    "staff.fingerprint": ("Dấu khoá", "Key fingerprint"),
    "staff.chain": ("Chuỗi đánh giá", "Rating chain"),
    "staff.chain_ok": ("nguyên vẹn", "intact"),
    "staff.chain_bad": ("HỎNG tại số {n} — báo CNTT, không xoá gì", "BROKEN at {n} — call IT, delete nothing"),
    "staff.chain_checking": ("đang kiểm tra…", "checking…"),
    "staff.chain_error": ("không kiểm tra được: {error}", "cannot be checked: {error}"),
    "staff.language": ("Ngôn ngữ mặc định", "Default language"),
    "staff.close": ("Đóng", "Close"),
    "staff.exit": ("Thoát ứng dụng", "Exit the app"),
    "staff.repeats": ("Nghi bấm lặp (không tính)", "Suspected repeats (not counted)"),
    "staff.printer_none": ("Máy in: không dùng", "Printer: none"),
    "staff.printer_ok": ("Máy in: sẵn sàng ({uri})", "Printer: ready ({uri})"),
    "staff.printer_fault": ("Máy in LỖI từ {since}: {error}", "Printer FAULT since {since}: {error}"),
    "staff.printer_test": ("In thử", "Test print"),
    "staff.printer_testing": ("Đang in trang thử…", "Printing the test page…"),
    "staff.printer_test_done": ("Đã in trang thử.", "Test page printed."),
    "staff.printer_test_failed": ("In thử không được.", "The test print failed."),
    "staff.sync": ("Đồng bộ", "Sync"),
    "staff.sync_not_enrolled": ("chưa đăng ký máy chủ", "not enrolled with a server"),
    "staff.sync_enrolled": ("máy chủ {server}", "server {server}"),
    "staff.sync_last_success": ("Thành công gần nhất: {when}", "Last success: {when}"),
    "staff.sync_never": ("chưa lần nào", "never"),
    "staff.sync_drift": ("đồng hồ lệch {s} giây", "clock off by {s} s"),
    "staff.sync_clock_wrong": ("ĐỒNG HỒ SAI {s} giây, hãy chỉnh giờ máy", "CLOCK WRONG by {s} s, set the time"),
    "staff.sync_last_error": ("Lỗi ({when}): {error}", "Error ({when}): {error}"),
    "staff.sync_running": ("Đang đồng bộ…", "Syncing…"),
    "staff.sync_done": ("Đồng bộ xong.", "Sync done."),
    "staff.sync_now": ("Đồng bộ ngay", "Sync now"),
    "staff.enroll": ("Đăng ký máy chủ", "Enrol"),
    "enroll.title": ("Đăng ký kiosk với máy chủ trung tâm", "Enrol this kiosk with the central server"),
    "enroll.server": ("Địa chỉ máy chủ", "Server address"),
    "enroll.code": ("Mã đăng ký (CNTT cấp)", "Enrolment code (from IT)"),
    "enroll.submit": ("Đăng ký", "Enrol"),
    "enroll.working": ("Đang đăng ký…", "Enrolling…"),
    "enroll.done": ("Đã đăng ký: {agency} — {counter}. Mã thiết bị {device}.",
                    "Enrolled: {agency} — {counter}. Device ID {device}."),
    "enroll.failed": ("Không đăng ký được: {error}", "Enrolment failed: {error}"),
    "enroll.already": ("Máy đang đăng ký với {server}; đăng ký lại sẽ thay thế.",
                       "Enrolled with {server}; enrolling again replaces it."),
    "records": ("bản ghi", "record(s)"),
    "document.originals": ("{n} bản chính", "{n} original(s)"),
    "document.copies": ("{n} bản sao", "{n} copy(ies)"),
    "keyboard.caps": ("Chữ HOA", "CAPS"),
    "keyboard.erase": ("Xoá", "Delete"),
    "keyboard.space": ("dấu cách", "space"),
    "keyboard.marks": ("ă â đ …", "ă â đ …"),
    "keyboard.letters": ("abc", "abc"),
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang` (English only when asked for), with {placeholders} filled in."""
    vi, en = STRINGS[key]
    text = en if lang == "en" else vi
    return text.format(**values) if values else text


def document_counts(originals: int | None, copies: int | None, lang: str) -> list[str]:
    """How many originals and copies of a dossier document to bring, e.g. ["1 bản chính", "2 bản sao"]."""
    return [t(key, lang, n=n) for key, n in (("document.originals", originals), ("document.copies", copies)) if n]


_WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock_text(moment: datetime, lang: str) -> tuple[str, str]:
    """The time and the date as the idle screen shows them, e.g. ("10:56", "Thứ Hai, 23/11/2026")."""
    day = moment.weekday()
    if lang == "en":
        return moment.strftime("%H:%M"), f"{_WEEKDAYS_EN[day]}, {moment:%d/%m/%Y}"
    return moment.strftime("%H:%M"), f"{_WEEKDAYS_VI[day]}, ngày {moment:%d/%m/%Y}"
