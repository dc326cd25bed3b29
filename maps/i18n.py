"""Every text geogrid's pages show, in Simplified Chinese (default) and English: one Python catalogue.

LABELS are the server's labels (maps, page titles, refusals); SCRIPT_LABELS are what each page's script shows,
served to the page in its configuration (``labels``), so a script never carries its own text. A dictionary
keyed by message id, not Babel: two languages, no plural forms beyond a number and a word, and the same keys
serve Python and the scripts, which gettext catalogues would not.
"""

from __future__ import annotations

from geogrid.errors import InputError

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "map_title": {"zh": "网格地图", "en": "Grid map"},
    "legend": {"zh": "图例", "en": "Legend"},
    "grid": {"zh": "网格", "en": "Grid"},
    "grids": {"zh": "网格", "en": "Grids"},
    "grid_code": {"zh": "网格编码", "en": "Grid code"},
    "community": {"zh": "社区", "en": "Community"},
    "community_code": {"zh": "社区编码", "en": "Community code"},
    "street": {"zh": "街道", "en": "Street"},
    "village": {"zh": "村", "en": "Village"},
    "name": {"zh": "名称", "en": "Name"},
    "households": {"zh": "户数", "en": "Households"},
    "population": {"zh": "人口", "en": "Population"},
    "buildings": {"zh": "楼栋数", "en": "Buildings"},
    "within_limits": {"zh": "符合规则", "en": "Within limits"},
    "flags": {"zh": "问题", "en": "Flags"},
    "incidents": {"zh": "事件", "en": "Incidents"},
    "incident_heat": {"zh": "事件热力图", "en": "Incidents (heat map)"},
    "heat_map": {"zh": "热力图", "en": "Heat map"},
    "heat_low": {"zh": "少", "en": "Few"},
    "heat_high": {"zh": "多", "en": "Many"},
    "cameras": {"zh": "摄像头", "en": "Cameras"},
    "camera_id": {"zh": "摄像头编号", "en": "Camera ID"},
    "count": {"zh": "数量", "en": "Count"},
}


FLAG_REASONS = {  # why a grid or plan breaks a rule, by rule, filled from the flag's own fields by the pages
    "min_households": {"zh": "{value} 户，低于下限 {limit} 户", "en": "{value} households, below the minimum of {limit}"},
    "max_households": {"zh": "{value} 户，超过上限 {limit} 户", "en": "{value} households, above the maximum of {limit}"},
    "min_population": {"zh": "{value} 人，低于下限 {limit} 人", "en": "{value} residents, below the minimum of {limit}"},
    "max_population": {"zh": "{value} 人，超过上限 {limit} 人", "en": "{value} residents, above the maximum of {limit}"},
    "community_too_small": {"zh": "社区的户数和人口不足以组成一个完整网格",
                            "en": "the community is too small for even one full grid"},
    "area_too_small": {"zh": "社区中与其余部分不相连的这一片，户数和人口不足以组成一个完整网格",
                       "en": "this part of the community, not connected to the rest, is too small for one full grid"},
    "no_feasible_window": {"zh": "按本社区的户均人口，无法划出同时满足户数和人口限制的网格",
                           "en": "at this community's people per household no grid can meet both the household "
                                 "and the resident limits"},
    "oversized_building": {"zh": "楼栋 {building_id} 单独超出限制且没有单元数可拆分，自成一个网格",
                           "en": "building {building_id} alone breaks a limit and has no unit count to split it by, "
                                 "so it is a grid of its own"},
    "several_parts": {"zh": "网格由 {value} 块互不相连的部分组成", "en": "the grid is in {value} separate parts"},
    "building_cut": {"zh": "{count} 栋楼的轮廓跨越网格边界：{ids}", "en": "{count} footprints cross the grid boundary: {ids}"},
    "no_feasible_partition": {"zh": "本区域的任何划分都无法满足全部限制（{count_atoms} 个不可分单元，{cells} 个单元格，已证明）",
                              "en": "no partition of this area meets every limit ({count_atoms} indivisible units, "
                                    "{cells} cells; proved)"},
    "gap": {"zh": "{area_m2} 平方米的社区范围不属于任何网格", "en": "{area_m2} m² of the community lie in no grid"},
    "overlap": {"zh": "{area_m2} 平方米同时属于多个网格", "en": "{area_m2} m² lie in more than one grid"},
    "outside_community": {"zh": "{area_m2} 平方米的网格范围在社区之外", "en": "{area_m2} m² of grids lie outside the community"},
    "unassigned_buildings": {"zh": "{count} 栋楼不属于任何网格：{ids}", "en": "{count} buildings are in no grid: {ids}"},
}


def flag_reason(flag: dict, lang: str = DEFAULT_LANG) -> str:
    """A flag's reason in lang, from its rule's sentence and its own fields (geogrid.js flagReason is the
    pages' twin); a rule without a sentence keeps the engine's reason."""
    sentence = FLAG_REASONS.get(str(flag.get("rule")), {}).get(check_lang(lang))
    if sentence is None:
        return str(flag.get("reason") or flag.get("rule") or "")
    ids = list(flag.get("building_ids") or [])
    values = {key: _number(value) for key, value in flag.items()} | {
        "count": len(ids),
        "ids": ("、" if lang == "zh" else ", ").join(map(str, ids[:5])) + ("…" if len(ids) > 5 else ""),
        "count_atoms": flag.get("atoms", "?")}
    return sentence.format_map(_Missing(values))


def _number(value: object) -> object:
    """Whole floats without their '.0' (500.0 households reads 500)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Missing(dict):
    """Formatting values where a field the flag lacks shows as '?' rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


COMMON_SCRIPT_LABELS = {  # what geogrid.js shows on every map page (Leaflet's controls, the base map chooser)
    "zh": {"zoom_in": "放大", "zoom_out": "缩小", "layers": "图层", "base_map": "底图",
           "leaflet_title": "Leaflet：交互式地图的 JavaScript 库",
           # the API's refusals as a Chinese page shows them (the API's own detail, in English, stays in error.detail)
           "http_400": "输入有误，请检查后重试", "http_401": "登录已失效，请重新登录", "http_403": "您没有执行此操作的权限",
           "http_404": "找不到所请求的内容", "http_409": "当前状态不允许此操作", "http_412": "数据已被他人修改，请刷新后重试",
           "http_413": "上传的内容太大", "http_422": "输入有误，请检查后重试", "http_429": "操作过于频繁，请稍后再试",
           "http_5xx": "服务器出错，请稍后再试", "http_other": "请求失败"},
    "en": {"zoom_in": "Zoom in", "zoom_out": "Zoom out", "layers": "Layers", "base_map": "Base map",
           "leaflet_title": "Leaflet: a JavaScript library for interactive maps"},
}
SCRIPT_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "planner": {  # the planning page's script keeps its own table for now; these are its template's
        "zh": {"export_format": "导出格式", "merge_with": "与之合并的网格"},
        "en": {"export_format": "Export format", "merge_with": "Grid to merge with"},
    },
    "worker": {
        "zh": {
            "sign_out": "退出", "other": "English", "title": "我的网格", "households": "户", "population": "人",
            "buildings": "楼栋", "cameras": "摄像头", "open_cases": "待办案件", "overdue": "超期", "overdue_by": "已超期",
            "left": "剩余", "deadline": "截止", "tap_hint": "在地图上点选网格内的位置即可上报新案件；点选案件可受理、办结或上报上级。", "new_case": "上报新案件",
            "category": "类别", "description": "问题描述", "address": "地址（可选）", "address_label": "地址", "submit": "上报",
            "cancel": "取消", "where": "位置", "outside": "请点选您网格内的位置", "need_description": "请填写问题描述",
            "reported": "已上报案件", "sending": "提交中…", "no_cases": "网格内没有待办案件", "no_cameras": "网格内及周边没有摄像头",
            "no_buildings": "没有楼栋", "accept": "受理", "handle": "办结", "escalate": "上报上级", "note": "备注（可选）",
            "done": "已完成", "level": "层级", "level_1": "网格", "level_2": "社区", "level_3": "街道", "reported_at": "上报时间",
            "channel": "渠道", "trace": "处置过程", "near_cameras": "附近摄像头", "sees": "可拍到", "not_sees": "拍不到",
            "close": "关闭", "no_action": "当前无需您处理", "in_grid": "网格内", "metres": "米", "report_here": "在此上报",
            "units": "单元", "floors": "层", "failed": "加载失败", "other_grid": "该位置不在您的网格内，案件已转交", "refresh": "刷新",
            "expand": "展开列表", "collapse": "收起列表", "minutes": "分钟", "hours": "小时", "days": "天", "case_no": "案件",
            "choose_category": "请选择类别",
            "need_category": "请选择案件类别",
            "need_answer": "请回答",
            "photos": "照片（拍照或选择）",
            "uploading": "照片上传中…",
            "photo_added": "已添加照片",
            "my_location": "我的位置",
            "locating": "正在定位…",
            "no_location": "无法获取您的位置",
            "accuracy": "精度约",
            "follow_on": "地图跟随您的位置",
            "follow_off": "已停止跟随",
            "you_are_here": "您的位置",
            "report_at_me": "在我的位置上报",
            "near_building": "附近",
            "nearby_title": "附近 250 米内同类待办案件",
            "same_problem": "是同一问题：附加到此案件",
            "attached": "已附加到案件",
            "choose": "请选择",
            "yes_no_none": "—",
            "step_photo": "处置照片（可选）",
            "photos_label": "照片",
            "act_report": "上报",
            "act_accept": "受理",
            "act_handle": "办结",
            "act_escalate": "上报上级",
            "act_dispatch": "派遣部门",
            "act_check_in": "部门报到",
            "act_close": "结案",
            "act_reject": "退回",
            "act_rate": "评价",
            "act_reopen": "重新办理",
            "act_place": "定位到网格",
            "act_attach": "附加上报",
            "act_mark_duplicate": "标记为重复案件",
            "duplicate_of": "重复于",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "title": "My grid", "households": "households",
            "population": "residents", "buildings": "Buildings", "cameras": "Cameras", "open_cases": "Open cases",
            "overdue": "overdue", "overdue_by": "Overdue by", "left": "left", "deadline": "Deadline",
            "tap_hint": "Tap a spot inside your grid on the map to report a new case; tap a case to accept it, mark it "
                        "handled or escalate it.",
            "new_case": "Report a new case", "category": "Category", "description": "Description",
            "address": "Address (optional)", "address_label": "Address", "submit": "Report", "cancel": "Cancel",
            "where": "Location", "outside": "Tap a spot inside your grid",
            "need_description": "Describe the problem", "reported": "Reported case", "sending": "Sending…",
            "no_cases": "No open cases in your grid", "no_cameras": "No cameras in or near your grid",
            "no_buildings": "No buildings", "accept": "Accept", "handle": "Mark handled", "escalate": "Escalate",
            "note": "Note (optional)", "done": "Done", "level": "Level", "level_1": "grid", "level_2": "community",
            "level_3": "street", "reported_at": "Reported", "channel": "Channel", "trace": "Trace",
            "near_cameras": "Cameras nearby", "sees": "sees it", "not_sees": "does not see it", "close": "Close",
            "no_action": "Nothing for you to do now", "in_grid": "in grid", "metres": "m",
            "report_here": "Report here", "units": "units", "floors": "floors", "failed": "Failed to load",
            "other_grid": "That spot is outside your grid; the case went elsewhere", "refresh": "Refresh",
            "expand": "Show list", "collapse": "Show map", "minutes": "min", "hours": "h", "days": "d",
            "case_no": "Case",
            "choose_category": "Choose a category",
            "need_category": "Choose the case's category",
            "need_answer": "Please answer",
            "photos": "Photos (take or choose)",
            "uploading": "Uploading photos…",
            "photo_added": "Photo added",
            "my_location": "My location",
            "locating": "Locating…",
            "no_location": "Your location is not available",
            "accuracy": "accuracy about",
            "follow_on": "The map follows your location",
            "follow_off": "No longer following",
            "you_are_here": "You are here",
            "report_at_me": "Report where I am",
            "near_building": "near",
            "nearby_title": "Open cases of this category within 250 m",
            "same_problem": "Same problem: add to this case",
            "attached": "Added to case",
            "choose": "Choose",
            "yes_no_none": "—",
            "step_photo": "Photo of the step (optional)",
            "photos_label": "Photos",
            "act_report": "reported",
            "act_accept": "accepted",
            "act_handle": "handled",
            "act_escalate": "escalated",
            "act_dispatch": "dispatched",
            "act_check_in": "checked in",
            "act_close": "closed",
            "act_reject": "sent back",
            "act_rate": "rated",
            "act_reopen": "reopened",
            "act_place": "placed in a grid",
            "act_attach": "added a report",
            "act_mark_duplicate": "marked as a duplicate",
            "duplicate_of": "duplicate of",
        },
    },
    "desk": {
        "zh": {
            "sign_out": "退出", "other": "English", "title": "案件工作台", "queue": "待我处理", "all": "全部",
            "category": "类别", "state": "状态", "level": "层级", "area": "区域编码", "since": "上报从", "until": "至",
            "overdue_only": "只看超期", "apply": "筛选", "reset": "清除", "total": "共 {n} 件", "no_cases": "没有待您处理的案件",
            "level_1": "网格", "level_2": "社区", "level_3": "街道", "overdue": "已超期", "due_soon": "1 小时内到期",
            "deadline": "截止", "left": "剩余", "overdue_by": "已超期", "minutes": "分钟", "hours": "小时", "days": "天",
            "case_no": "案件", "close_case": "关闭", "description": "问题描述", "address": "地址", "location": "位置",
            "reporter": "上报人", "contact": "联系方式", "reported_at": "上报时间", "department": "承办部门", "trace": "处置过程",
            "photos": "照片", "no_photos": "没有照片", "nearby": "附近案件", "no_nearby": "附近 250 米内没有同类待办案件",
            "cameras": "附近摄像头", "no_cameras": "附近没有摄像头", "sees": "可拍到", "not_sees": "拍不到", "metres": "米",
            "actions": "您现在可以", "no_action": "当前没有需要您处理的操作", "note": "说明", "note_needed": "请填写说明",
            "send": "确定", "cancel": "取消", "sending": "提交中…", "done": "已完成", "step_photos": "照片（可选）",
            "uploading": "照片上传中…", "photo_added": "已添加照片", "dispatch_to": "派遣到部门", "deadline_for": "办理期限",
            "rating": "评分", "rating_1": "1 很差", "rating_2": "2 较差", "rating_3": "3 一般", "rating_4": "4 满意",
            "rating_5": "5 很满意", "duplicate_of": "重复于案件编号", "loading": "加载中…", "failed": "加载失败",
            "live": "实时更新已连接", "offline": "实时更新已断开，正在重连…", "arrived": "新案件待您处理", "moved_on": "案件已转出",
            "new": "新", "checked_in_at": "报到时间", "by": "经办", "open_leader": "领导驾驶舱", "refresh": "刷新",
            "act_report": "上报", "act_accept": "受理", "act_handle": "办结", "act_escalate": "上报上级",
            "act_dispatch": "派遣部门", "act_check_in": "报到", "act_close": "核查结案", "act_reject": "核查退回",
            "act_assess": "考核部门", "act_rate": "评价", "act_reopen": "重新办理", "act_place": "定位到网格",
            "act_attach": "附加上报", "act_mark_duplicate": "标记为重复案件",
            "owner_grid": "网格员", "owner_community": "社区", "owner_street": "街道", "owner_department": "承办部门",
            "owner_reporter": "上报人或所在区域工作人员",
            "reason_not_your_step": "“{action}”由{owners}办理，不是您的步骤（案件目前在{level}层级，状态为“{status}”）",
            "reason_not_now": "案件目前在{level}层级，状态为“{status}”，不能“{action}”",
            "reason_already_rated": "该案件已经评价过", "reason_already_assessed": "该部门在此案件上的工作已经考核过",
            "reason_not_located": "案件尚未定位到网格，需先定位", "reason_unknown_action": "没有这个操作",
            "refused": "操作未成功", "counts": "各状态数量", "map_cases": "案件", "filters": "筛选条件",
            "did_report": "上报", "did_accept": "受理", "did_handle": "办结", "did_escalate": "上报上级",
            "did_dispatch": "派遣部门", "did_check_in": "报到", "did_close": "结案", "did_reject": "退回", "did_assess": "考核部门",
            "did_rate": "评价", "did_reopen": "重新办理", "did_place": "定位到网格", "did_attach": "附加上报",
            "did_mark_duplicate": "标记为重复案件",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "title": "Case desk", "queue": "Awaiting my step", "all": "All",
            "category": "Category", "state": "State", "level": "Level", "area": "Area code", "since": "Reported from",
            "until": "to", "overdue_only": "Overdue only", "apply": "Filter", "reset": "Clear", "total": "{n} cases",
            "no_cases": "No case awaits your step", "level_1": "grid", "level_2": "community", "level_3": "street",
            "overdue": "overdue", "due_soon": "due within the hour", "deadline": "Deadline", "left": "left",
            "overdue_by": "Overdue by", "minutes": "min", "hours": "h", "days": "d", "case_no": "Case",
            "close_case": "Close", "description": "Description", "address": "Address", "location": "Location",
            "reporter": "Reporter", "contact": "Contact", "reported_at": "Reported", "department": "Department",
            "trace": "Trace", "photos": "Photos", "no_photos": "No photos", "nearby": "Cases nearby",
            "no_nearby": "No open case of this category within 250 m", "cameras": "Cameras nearby",
            "no_cameras": "No camera nearby", "sees": "sees it", "not_sees": "does not see it", "metres": "m",
            "actions": "You may now", "no_action": "Nothing for you to do on this case now", "note": "Note",
            "note_needed": "Write a note", "send": "Confirm", "cancel": "Cancel", "sending": "Sending…",
            "done": "Done", "step_photos": "Photos (optional)", "uploading": "Uploading photos…",
            "photo_added": "Photo added", "dispatch_to": "Dispatch to", "deadline_for": "Deadline",
            "rating": "Rating", "rating_1": "1 poor", "rating_2": "2 fair", "rating_3": "3 adequate", "rating_4": "4 good",
            "rating_5": "5 very good", "duplicate_of": "Duplicate of case no.", "loading": "Loading…",
            "failed": "Failed to load", "live": "Live updates on", "offline": "Live updates lost, reconnecting…",
            "arrived": "A new case awaits you", "moved_on": "A case moved on", "new": "new",
            "checked_in_at": "Checked in", "by": "by", "open_leader": "Leader dashboard", "refresh": "Refresh",
            "act_report": "reported", "act_accept": "Accept", "act_handle": "Mark handled", "act_escalate": "Escalate",
            "act_dispatch": "Dispatch", "act_check_in": "Check in", "act_close": "Verify and close",
            "act_reject": "Verify and send back", "act_assess": "Rate the department", "act_rate": "Rate",
            "act_reopen": "Reopen", "act_place": "placed in a grid", "act_attach": "added a report",
            "act_mark_duplicate": "Mark as a duplicate",
            "owner_grid": "the grid worker", "owner_community": "the community", "owner_street": "the street",
            "owner_department": "the department", "owner_reporter": "the reporter or the area's staff",
            "reason_not_your_step": "'{action}' belongs to {owners}, not you (the case is at the {level} level, {status})",
            "reason_not_now": "The case is at the {level} level, {status}: it cannot be '{action}'",
            "reason_already_rated": "The case has already been rated",
            "reason_already_assessed": "The department's work on this case has already been assessed",
            "reason_not_located": "The case is not in any grid yet", "reason_unknown_action": "No such action",
            "refused": "Not done", "counts": "Cases per state", "map_cases": "Cases", "filters": "Filters",
            "did_report": "reported", "did_accept": "accepted", "did_handle": "handled", "did_escalate": "escalated",
            "did_dispatch": "dispatched", "did_check_in": "checked in", "did_close": "closed",
            "did_reject": "sent back", "did_assess": "rated the department", "did_rate": "rated",
            "did_reopen": "reopened", "did_place": "placed in a grid", "did_attach": "added a report",
            "did_mark_duplicate": "marked as a duplicate",
        },
    },
    "login": {
        "zh": {"title": "登录 geogrid", "username": "用户名", "password": "密码", "sign_in": "登录", "other": "English",
               "failed": "用户名或密码错误", "wait": "尝试次数过多, 请 {s} 秒后再试"},
        "en": {"title": "Sign in to geogrid", "username": "Username", "password": "Password", "sign_in": "Sign in",
               "other": "中文", "failed": "Incorrect username or password", "wait": "Too many tries: try again in {s} s"},
    },
    "leader": {
        "zh": {
            "sign_out": "退出", "other": "English", "category": "类别", "all": "全部类别", "since": "从", "until": "至",
            "play": "播放", "pause": "暂停", "whole": "全时段", "week": "周", "weeks": "周", "cases": "件",
            "whole_period": "全时段", "shown": "地图与表格显示", "width": "窗口宽度", "speed": "播放速度",
            "week_of": "第 {a}–{b} 周 / 共 {n} 周", "one_week_of": "第 {a} 周 / 共 {n} 周",
            "table_title": "各区域办结情况", "hint": "点击地图上的区域或表格行可逐级查看。", "area": "区域",
            "count": "案件数", "closed": "已办结", "closure_rate": "办结率", "overdue": "超期",
            "overdue_open": "超期未办结", "closed_late": "超期办结", "median_hours": "办结用时中位数(小时)",
            "per_1000": "每千户案件数", "households": "户数", "heat": "案件热力图", "choropleth": "每千户案件数",
            "h3": "H3 六边形密度", "hotspots": "热点/冷点 (Gi*)", "hot": "热点", "cold": "冷点", "no_data": "无数据",
            "street": "街道/镇", "community": "社区/村", "grid": "网格", "district": "区", "failed": "加载失败",
            "no_rows": "无区域", "h3_legend": "每个 H3 单元的案件数", "loading": "加载中…", "heat_low": "少",
            "heat_high": "多", "heat_legend": "案件密度", "no_spots": "当前时段没有显著的热点或冷点",
            "spots_legend": "热点/冷点 (显著性经 FDR 校正)", "week_word": "周", "area_path": "所在区域",
            "week_slider": "时间窗口的起始周", "open_desk": "案件工作台",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "category": "Category", "all": "All categories", "since": "From",
            "until": "To", "play": "Play", "pause": "Pause", "whole": "Whole period", "week": "week", "weeks": "weeks",
            "cases": "cases", "whole_period": "Whole period", "shown": "Map and table show", "width": "Window",
            "speed": "Speed", "week_of": "weeks {a}–{b} of {n}", "one_week_of": "week {a} of {n}",
            "table_title": "Cases and closure per area",
            "hint": "Click an area on the map or a table row to drill down.",
            "area": "Area", "count": "Cases", "closed": "Closed", "closure_rate": "Closure rate", "overdue": "Overdue",
            "overdue_open": "Open and overdue", "closed_late": "Closed late", "median_hours": "Median hours to close",
            "per_1000": "Cases per 1,000 households", "households": "Households", "heat": "Incident heat map",
            "choropleth": "Cases per 1,000 households", "h3": "H3 hexagon density",
            "hotspots": "Hot and cold spots (Gi*)",
            "hot": "hot spot", "cold": "cold spot", "no_data": "no data", "street": "Street/town",
            "community": "Community/village", "grid": "Grid", "district": "District", "failed": "Failed to load",
            "no_rows": "No areas", "h3_legend": "cases per H3 cell", "loading": "Loading…", "heat_low": "few",
            "heat_high": "many", "heat_legend": "Case density",
            "no_spots": "No significant hot or cold spot in this window",
            "spots_legend": "Hot and cold spots (FDR-corrected)", "week_word": "week", "area_path": "Area",
            "week_slider": "First week of the window", "open_desk": "Case desk",
        },
    },
}
REFUSALS = {  # the pages the server answers instead of a map page
    "no_page": {"zh": "没有这个页面。", "en": "There is no such page."},
    "no_role_page": {"zh": "“{role}”角色没有地图页面。", "en": "The {role} role has no map page."},
    "wrong_role": {"zh": "“{role}”角色不能打开“{page}”页面。", "en": "The {role} role may not open the {page} page."},
    "refused_title": {"zh": "无法打开页面", "en": "This page cannot be opened"},
    "go_home": {"zh": "返回我的页面", "en": "Back to my page"},
    "sign_in_again": {"zh": "换个账号登录", "en": "Sign in as someone else"},
}
ROLE_NAMES = {
    "admin": {"zh": "管理员", "en": "administrator"}, "planner": {"zh": "规划员", "en": "planner"},
    "leader": {"zh": "领导", "en": "leader"}, "grid_worker": {"zh": "网格员", "en": "grid worker"},
    "department_staff": {"zh": "部门工作人员", "en": "department staff"},
}
PAGE_NAMES = {
    "planner": {"zh": "网格规划", "en": "planning"}, "worker": {"zh": "我的网格", "en": "grid worker"},
    "leader": {"zh": "领导驾驶舱", "en": "leader"}, "desk": {"zh": "案件工作台", "en": "case desk"},
}

BASEMAP_NAMES = {
    "none": {"zh": "无底图", "en": "No base map"}, "custom": {"zh": "自有底图", "en": "Own tiles"},
    "osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"}, "tianditu": {"zh": "天地图", "en": "Tianditu"},
    "amap": {"zh": "高德地图 (GCJ-02)", "en": "Amap (GCJ-02)"},
}


def basemap_name(key: str, lang: str = DEFAULT_LANG) -> str:
    """A base map's name in lang."""
    return BASEMAP_NAMES[key][check_lang(lang)]


def script_labels(page: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """What page's script shows, in lang: geogrid.js's labels and the page's own (sign-in has no map)."""
    lang = check_lang(lang)
    common = COMMON_SCRIPT_LABELS[lang] if page != "login" else {}
    reasons = {f"flag_reason.{rule}": texts[lang] for rule, texts in FLAG_REASONS.items()} if page != "login" else {}
    return common | reasons | SCRIPT_LABELS.get(page, {}).get(lang, {})


def refusal(key: str, lang: str = DEFAULT_LANG, **values: str) -> str:
    """A refusal page's sentence in lang, with role and page names in that language."""
    lang = check_lang(lang)
    names = {k: (ROLE_NAMES if k == "role" else PAGE_NAMES).get(v, {}).get(lang, v) for k, v in values.items()}
    return REFUSALS[key][lang].format(**names)


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The label `key` in `lang` ("zh" or "en"); KeyError for an unknown key, InputError for an unknown language."""
    return LABELS[key][check_lang(lang)]


def check_lang(lang: str) -> str:
    """Return `lang` if maps speak it, else raise InputError listing the languages."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang
