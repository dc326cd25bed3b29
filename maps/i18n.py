"""Every text geogrid's pages show, in Simplified Chinese (default) and English: one Python catalogue.

LABELS are the server's labels (maps, page titles, refusals); SCRIPT_LABELS are what each page's script shows,
served to the page in its configuration (``labels``), so a script never carries its own text. A dictionary
keyed by message id, not Babel: two languages, no plural forms beyond a number and a word, and the same keys
serve Python and the scripts, which gettext catalogues would not.
"""

from __future__ import annotations

from geogrid.errors import InputError
from geogrid.incidents.workflow import LEVEL_NAMES, LEVEL_NAMES_ZH, STATE_LABELS

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


RULE_NAMES = {  # a broken rule's short name (the planner's grid table and problem lists), served as rule.<rule>
    "min_households": {"zh": "户数过少", "en": "too few households"},
    "max_households": {"zh": "户数过多", "en": "too many households"},
    "max_population": {"zh": "人口过多", "en": "too many residents"},
    "min_population": {"zh": "人口过少", "en": "too few residents"},
    "community_too_small": {"zh": "社区过小", "en": "community too small"},
    "area_too_small": {"zh": "被隔开的片区过小", "en": "cut-off area too small"},
    "no_feasible_window": {"zh": "户均人口无可行区间", "en": "no feasible household window"},
    "no_feasible_partition": {"zh": "无满足全部限值的划分", "en": "no partition meets every limit"},
    "oversized_building": {"zh": "超大楼栋", "en": "oversized building"},
    "contiguity": {"zh": "不连片", "en": "not contiguous"},
    "several_parts": {"zh": "不连片", "en": "in several parts"},
    "building_cut": {"zh": "楼栋被切开", "en": "building cut"},
    "gap": {"zh": "有空隙", "en": "gap"},
    "overlap": {"zh": "有重叠", "en": "overlap"},
    "outside_community": {"zh": "超出社区", "en": "outside community"},
    "unassigned_buildings": {"zh": "楼栋未入网格", "en": "buildings in no grid"},
}

COMMON_SCRIPT_LABELS = {  # what geogrid.js shows on every map page (Leaflet's controls, the base map chooser)
    "zh": {"zoom_in": "放大", "zoom_out": "缩小", "layers": "图层", "base_map": "底图",
           "leaflet_title": "Leaflet：交互式地图的 JavaScript 库",
           # the API's refusals as a Chinese page shows them (the API's own detail, in English, stays in error.detail)
           "http_400": "输入有误，请检查后重试", "http_401": "登录已失效，请重新登录", "http_403": "您没有执行此操作的权限",
           "http_404": "找不到所请求的内容", "http_409": "当前状态不允许此操作", "http_412": "数据已被他人修改，请刷新后重试",
           "http_413": "上传的内容太大", "http_422": "输入有误，请检查后重试", "http_429": "操作过于频繁，请稍后再试",
           "http_503": "服务暂时不可用，请稍后再试", "http_5xx": "服务器出错，请稍后再试", "http_other": "请求失败"},
    "en": {"zoom_in": "Zoom in", "zoom_out": "Zoom out", "layers": "Layers", "base_map": "Base map",
           "leaflet_title": "Leaflet: a JavaScript library for interactive maps"},
}
SCRIPT_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "planner": {
        "zh": {
            "sign_out": "退出", "other": "English", "street": "街道/镇", "community": "社区/村", "pick": "— 请选择 —",
            "version": "方案版本", "draft": "草稿", "published": "已发布", "archived": "已归档", "revision": "修订",
            "new_draft": "新建草稿", "undo": "撤销", "redo": "重做", "nothing_redo": "没有可重做的修改", "redone": "已重做",
            "compare": "与已发布对比", "publish": "发布", "export": "导出", "grids": "网格", "grid": "网格", "households": "户数",
            "population": "人口", "buildings": "楼栋", "rules": "规则", "hint": "点击楼栋可将其移到相邻网格；点击表格行选择网格后可重画、修改、合并或切分。",
            "draw": "重画边界", "edit_shape": "修改边界", "save_shape": "保存边界", "split": "切分", "merge": "合并", "cancel": "取消",
            "auto": "自动划分", "min_households": "最少户数", "max_households": "最多户数", "max_population": "最多人口",
            "rural_target_population": "村网格目标人口", "rural_tolerance": "村容差", "keep_previous": "保留已发布方案中合规的网格",
            "run": "运行", "queued": "排队中", "running": "划分中", "succeeded": "完成", "failed": "失败",
            "job_failed": "自动划分未完成，请检查规则后重新运行", "ok": "合规",
            "move_to": "移到网格", "move": "移动", "address": "地址", "floors": "层数", "in_grid": "所在网格",
            "click_target": "或点击地图上的目标网格", "need_draft": "已发布的方案不能直接修改：请先新建草稿。", "moved": "已移动", "saved": "已保存",
            "undone": "已撤销", "nothing": "没有可撤销的修改", "published_ok": "已发布", "stale": "方案已被他人修改，已重新载入",
            "draw_hint": "在地图上画出新边界，双击结束", "split_hint": "画一条穿过网格的线，双击结束", "edit_hint": "拖动顶点后点击“保存边界”",
            "changed": "变动楼栋", "moved_households": "变动户数", "no_published": "没有已发布的方案", "same_plan": "当前即为已发布方案",
            "new_version": "新方案版本", "totals": "合计", "grids_breaking": "不合规网格", "plan_problems": "方案问题", "hh": "户",
            "people": "人", "selected": "已选", "legend": "楼栋大小 = 户数", "publish_check": "发布前检查",
            "hard_problems": "以下问题须先修正，方案不能发布：", "limit_problems": "以下网格超出限值，发布须填写理由：", "publish_reason": "发布理由",
            "all_rules_met": "方案符合全部规则。", "reason_needed": "请填写发布理由", "identical": "新草稿与已发布方案完全相同",
            "differs": "与已发布方案相比变动楼栋", "deleted_grid": "已删除网格", "units": "单元", "old_boundary": "已发布方案的边界",
            "problem_area": "空隙、重叠、不连片", "export_format": "导出格式", "merge_with": "与之合并的网格",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "street": "Street/town", "community": "Community/village",
            "pick": "— choose —", "version": "Plan version", "draft": "draft", "published": "published",
            "archived": "archived", "revision": "rev.", "new_draft": "New draft", "undo": "Undo", "redo": "Redo",
            "nothing_redo": "Nothing to redo", "redone": "Redone", "compare": "Compare with published",
            "publish": "Publish", "export": "Export", "grids": "Grids", "grid": "Grid", "households": "Households",
            "population": "Population", "buildings": "Bldgs", "rules": "Rules",
            "hint": "Click a building to move it to a neighbouring grid; click a table row to select a grid to redraw, "
                    "edit, merge or split.",
            "draw": "Redraw boundary", "edit_shape": "Edit boundary", "save_shape": "Save boundary", "split": "Split",
            "merge": "Merge", "cancel": "Cancel", "auto": "Auto-partition", "min_households": "Min households",
            "max_households": "Max households", "max_population": "Max population",
            "rural_target_population": "Village target population", "rural_tolerance": "Village tolerance",
            "keep_previous": "Keep the published grids that obey the rules", "run": "Run", "queued": "queued",
            "running": "partitioning", "succeeded": "done", "failed": "failed",
            "job_failed": "The automatic partition failed: check the rules and run it again", "ok": "OK", "move_to": "Move to grid",
            "move": "Move", "address": "Address", "floors": "Floors", "in_grid": "Grid",
            "click_target": "or click the target grid on the map",
            "need_draft": "A published plan cannot be edited: start a new draft first.", "moved": "Moved",
            "saved": "Saved", "undone": "Undone", "nothing": "Nothing to undo", "published_ok": "Published",
            "stale": "The plan was changed by someone else and has been reloaded",
            "draw_hint": "Draw the new boundary; double-click to finish",
            "split_hint": "Draw a line across the grid; double-click to finish",
            "edit_hint": "Drag the vertices, then click Save boundary", "changed": "Buildings changed",
            "moved_households": "Households moved", "no_published": "No published plan",
            "same_plan": "This is the published plan", "new_version": "New plan version", "totals": "Total",
            "grids_breaking": "grids breaking rules", "plan_problems": "Plan problems", "hh": "hh", "people": "people",
            "selected": "Selected", "legend": "building size = households", "publish_check": "Before publishing",
            "hard_problems": "Fix these first; the plan cannot be published:",
            "limit_problems": "These grids are outside a limit; publishing needs a reason:",
            "publish_reason": "Reason for publishing", "all_rules_met": "The plan obeys every rule.",
            "reason_needed": "Give a reason for publishing", "deleted_grid": "Grid deleted:", "units": "Units",
            "identical": "The new draft is identical to the published plan",
            "differs": "Buildings changed from the published plan:",
            "old_boundary": "boundaries of the published plan", "problem_area": "gaps, overlaps, grids in parts",
            "export_format": "Export format", "merge_with": "Grid to merge with",
        },
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
            "overdue_only": "只看超期", "apply": "筛选", "reset": "清除", "total": "共 {n} 件", "more": "加载更多（已显示 {shown} / 共 {n} 件）", "no_cases": "没有待您处理的案件",
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
            "refused": "操作未成功", "counts": "各状态数量", "map_cases": "案件", "filters": "筛选条件",
            "did_report": "上报", "did_accept": "受理", "did_handle": "办结", "did_escalate": "上报上级",
            "did_dispatch": "派遣部门", "did_check_in": "报到", "did_close": "结案", "did_reject": "退回", "did_assess": "考核部门",
            "did_rate": "评价", "did_reopen": "重新办理", "did_place": "定位到网格", "did_attach": "附加上报",
            "did_mark_duplicate": "标记为重复案件",
        },
        "en": {
            "sign_out": "Sign out", "other": "中文", "title": "Case desk", "queue": "Awaiting my step", "all": "All",
            "category": "Category", "state": "State", "level": "Level", "area": "Area code", "since": "Reported from",
            "until": "to", "overdue_only": "Overdue only", "apply": "Filter", "reset": "Clear", "total": "{n} cases", "more": "Show more ({shown} of {n} shown)",
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
            "week_slider": "时间窗口的起始周", "legends": "图例", "show_legends": "展开图例", "hide_legends": "收起图例",
            "ranking_title": "考核排名", "ranking_level": "考核对象", "ranking_export": "导出考核表",
            "level_department": "部门", "level_street": "街道", "level_community": "社区", "level_grid_worker": "网格员",
            "rank": "排名", "ranked_name": "名称", "worker": "网格员", "checked_in_on_time": "按时报到率",
            "handled_on_time": "按时办结率", "median_hours_to_handle": "办理用时中位数(小时)",
            "satisfaction": "群众满意度(1–5)", "reopened": "重开率", "street_rating": "街道评价(1–5)", "score": "得分",
            "not_reopened": "未重开率", "weights": "权重", "period": "考核期间", "from_start": "开始", "to_now": "至今",
            "check_in_deadline": "报到时限: 派遣后 {h} 小时", "handle_deadline": "办理时限: 派遣后 {h} 小时",
            "handle_deadline_category": "办理时限: 类别的第三级时限", "no_ranked": "本期间无考核数据",
            "open_desk": "案件工作台",
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
            "week_slider": "First week of the window", "legends": "Legend", "show_legends": "Show the legend",
            "hide_legends": "Hide the legend",
            "ranking_title": "Assessment ranking", "ranking_level": "Ranked", "ranking_export": "Export workbook (.xlsx)",
            "level_department": "Departments", "level_street": "Streets", "level_community": "Communities",
            "level_grid_worker": "Grid workers", "rank": "Rank", "ranked_name": "Name", "worker": "Grid worker",
            "checked_in_on_time": "Checked in on time", "handled_on_time": "Handled on time",
            "median_hours_to_handle": "Median hours to handle", "satisfaction": "Satisfaction (1–5)",
            "reopened": "Reopened", "street_rating": "Street's rating (1–5)", "score": "Score",
            "not_reopened": "Not reopened", "weights": "Weights", "period": "Period", "from_start": "the beginning",
            "to_now": "now", "check_in_deadline": "check-in within {h} h of dispatch",
            "handle_deadline": "handled within {h} h of dispatch",
            "handle_deadline_category": "handled by the category's level-3 deadline",
            "no_ranked": "Nothing to assess in this period",
            "open_desk": "Case desk",
        },
    },
}
REFUSAL_CODES = {  # the API's refusals by their code (an error body's "code"), filled from its "params" by the pages
    "workflow.unknown_action": {"zh": "没有“{action}”这个操作", "en": "There is no action {action}"},
    "workflow.not_placed": {"zh": "案件尚未定位到网格：须由规划员或领导先为它选定网格",
                            "en": "The case is in no grid yet: a planner or leader must place it first"},
    "workflow.not_allowed_now": {"zh": "案件当前为“{status}”（{level}层级），此时不能{action}",
                                 "en": "You cannot {action} a case that is {status} at the {level} level"},
    "workflow.already_rated": {"zh": "该案件已评价过", "en": "The case has already been rated"},
    "workflow.already_assessed": {"zh": "该案件的部门处置已考核过",
                                  "en": "The department's work on this case has already been assessed"},
    "workflow.not_your_level": {"zh": "{level}层级的案件不由您的角色{action}",
                                "en": "At the {level} level your role does not {action} cases"},
    "workflow.not_your_area": {"zh": "该案件不在您负责的区域（或部门）内，您不能{action}",
                               "en": "The case is outside your area (or department): you cannot {action} it"},
    "workflow.case_not_yours": {"zh": "案件 {case} 不在您可查看的范围内", "en": "Case {case} is outside what you may see"},
    "workflow.grid_not_yours": {"zh": "网格 {grid} 不在您负责的区域内", "en": "Grid {grid} is outside your area"},
    "workflow.already_placed": {"zh": "案件已在网格 {grid} 中", "en": "The case is already in grid {grid}"},
    "workflow.attach_closed": {"zh": "案件 {case} 已是“{status}”：请上报新案件",
                               "en": "Case {case} is {status}: report a new case instead"},
    "workflow.original_is_duplicate": {"zh": "案件 {case} 本身是重复案件：请选择它所重复的原案件",
                                       "en": "Case {case} is itself a duplicate: name the case it repeats"},
    "workflow.duplicate_needs_original": {"zh": "请指明此案件所重复的原案件", "en": "Name the case this one repeats"},
    "workflow.duplicate_of_itself": {"zh": "案件不能与自身重复", "en": "A case cannot be a duplicate of itself"},
    "access.role_may_not": {"zh": "“{role}”角色不能执行此操作", "en": "The {role} role may not do this"},
    "access.outside_area": {"zh": "{area} 不在您负责的区域内", "en": "{area} is outside your area"},
    "plan.changed": {"zh": "方案已被他人修改：请刷新后重试", "en": "The plan was changed meanwhile: reload it and try again"},
    "edit.not_draft": {"zh": "该方案为“{status}”，只有草稿可以修改：请先新建草稿",
                       "en": "This plan is {status}: only a draft can be edited; start a new draft first"},
    "edit.nothing_to_undo": {"zh": "没有可撤销的修改", "en": "Nothing to undo"},
    "edit.nothing_to_redo": {"zh": "没有可重做的修改", "en": "Nothing to redo"},
    "edit.not_whole": {"zh": "此修改被拒绝，因为会造成：{flags}", "en": "The edit is refused: after it, {flags}"},
    "edit.not_neighbours": {"zh": "网格 {grid} 与网格 {other} 不相邻：楼栋只能移到相邻网格，网格只能与相邻网格合并",
                            "en": "Grids {grid} and {other} do not share a boundary: a building moves only to a "
                                  "neighbouring grid, and only neighbouring grids merge"},
    "edit.already_there": {"zh": "楼栋 {building} 已在网格 {grid} 中", "en": "Building {building} is already in grid {grid}"},
    "edit.ground_left_over": {"zh": "网格 {grid} 会让出 {area_m2} 平方米，但没有相邻网格能接收：请重画边界，保留这块范围",
                              "en": "Grid {grid} would give up {area_m2} m² that no neighbouring grid can take: draw "
                                    "the boundary so that it keeps that ground"},
    "edit.merge_itself": {"zh": "网格不能与自身合并", "en": "A grid cannot merge with itself"},
    "edit.bad_line": {"zh": "切分线须至少有两个不同的点", "en": "The split line needs at least two distinct points"},
    "edit.line_misses": {"zh": "切分线没有切开网格 {grid}：须从网格的一边画到另一边",
                         "en": "The line does not cut grid {grid}: draw it across the grid from edge to edge"},
    "edit.line_cuts_many": {"zh": "切分线把网格 {grid} 切成了 {count} 块：请画一条只穿过网格一次的线",
                            "en": "The line cuts grid {grid} into {count} pieces: draw a line that crosses it once"},
    "edit.bad_polygon": {"zh": "所画的多边形无效（例如边线自相交）",
                         "en": "The drawn polygon is not valid (for example, its edges cross)"},
    "edit.drawn_outside": {"zh": "所画的多边形有 {area_m2} 平方米在社区之外（共 {total_m2} 平方米）：请画在社区内",
                           "en": "The drawn polygon reaches {area_m2} m² outside the community (of {total_m2} m²): "
                                 "draw it inside the community"},
    "edit.drawn_elsewhere": {"zh": "所画的多边形与社区不重叠", "en": "The drawn polygon does not overlap the community"},
    "publish.hard_rules": {"zh": "方案有 {count} 处问题须先修正才能发布：{rules}",
                           "en": "The plan cannot be published: fix its {count} problems first ({rules})"},
    "publish.needs_reason": {"zh": "方案有 {count} 处超出限值（{rules}）：发布须填写理由",
                             "en": "The plan breaks {count} limits ({rules}): publishing needs a reason"},
    "input.too_long": {"zh": "“{field}”有 {length} 个字符，最多 {limit} 个",
                       "en": "{field} is {length} characters long: at most {limit}"},
    "input.too_many": {"zh": "“{field}”最多 {limit} 项", "en": "{field}: at most {limit} items"},
    "input.missing": {"zh": "请填写“{field}”", "en": "{field} is required"},
    "input.invalid": {"zh": "“{field}”填写有误", "en": "{field} is not valid"},
    "input.nul_character": {"zh": "“{field}”含有不允许的控制字符",
                            "en": "{field} holds a NUL character, which no text may contain"},
    "report.too_many_photos": {"zh": "最多 {limit} 张照片，不能 {count} 张", "en": "At most {limit} photos, not {count}"},
    "report.bad_photo_address": {"zh": "照片的地址无效", "en": "A photo's address is not an http or https URL"},
    "report.one_coordinate": {"zh": "位置须同时有经度和纬度", "en": "A location needs both coordinates"},
    "report.no_location": {"zh": "请在地图上点选位置或填写地址",
                           "en": "A report needs a location: a point on the map or an address"},
    "report.unknown_category": {"zh": "没有“{category}”这个类别", "en": "There is no category {category}"},
    "report.unknown_channel": {"zh": "没有“{channel}”这个渠道", "en": "There is no channel {channel}"},
    "report.answer_required": {"zh": "请回答：{question}", "en": "Please answer: {question}"},
    "report.answer_not_offered": {"zh": "“{question}”的回答不在可选项中",
                                  "en": "The answer to “{question}” is not one of its choices"},
    "report.answer_one_value": {"zh": "“{question}”只能选一项", "en": "“{question}” takes one answer"},
    "report.answer_date": {"zh": "“{question}”须填日期或时间", "en": "“{question}” must be a date or a time"},
    "report.not_a_number": {"zh": "“{value}”不是数字", "en": "“{value}” is not a number"},
    "report.rating_range": {"zh": "评价须为 {low} 到 {high} 的整数",
                            "en": "The rating must be a whole number from {low} to {high}"},
    "report.photo_too_large": {"zh": "照片有 {size_mb} MB，最大 {limit_mb} MB",
                               "en": "The photo is {size_mb} MB: at most {limit_mb} MB"},
    "report.photo_too_many_pixels": {"zh": "照片像素过多：最多 {limit} 像素",
                                     "en": "The photo has too many pixels: at most {limit}"},
    "report.not_a_photo": {"zh": "文件不是可识别的照片：请重新拍照或选择图片",
                           "en": "The file is not a photo: send a JPEG, PNG or WebP image"},
    "report.photo_damaged": {"zh": "照片已损坏，无法读取", "en": "The photo is damaged and cannot be read"},
}
ACTION_NAMES = {  # a workflow step as a verb (refusals: "you cannot accept ...")
    "accept": {"zh": "受理", "en": "accept"}, "handle": {"zh": "办结", "en": "mark handled"},
    "escalate": {"zh": "上报上级", "en": "escalate"}, "dispatch": {"zh": "派遣部门", "en": "dispatch"},
    "check_in": {"zh": "报到", "en": "check in"}, "close": {"zh": "结案", "en": "close"},
    "reject": {"zh": "退回", "en": "send back"}, "assess": {"zh": "考核", "en": "assess"},
    "rate": {"zh": "评价", "en": "rate"}, "reopen": {"zh": "重新办理", "en": "reopen"},
    "mark_duplicate": {"zh": "标记为重复案件", "en": "mark as a duplicate"}, "attach": {"zh": "附加上报", "en": "add to"},
}
FIELD_NAMES = {  # the fields of a request the pages send (input.too_long, input.missing, ...)
    "description": {"zh": "问题描述", "en": "Description"}, "address": {"zh": "地址", "en": "Address"},
    "reporter_name": {"zh": "上报人姓名", "en": "Reporter's name"},
    "reporter_contact": {"zh": "上报人联系方式", "en": "Reporter's contact"},
    "external_id": {"zh": "外部编号", "en": "External id"}, "media_urls": {"zh": "照片", "en": "Photos"},
    "note": {"zh": "备注", "en": "Note"}, "reason": {"zh": "理由", "en": "Reason"}, "rating": {"zh": "评价", "en": "Rating"},
    "category": {"zh": "类别", "en": "Category"}, "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"}, "duplicate_of": {"zh": "原案件编号", "en": "Original case"},
    "format": {"zh": "导出格式", "en": "Export format"},
}
PLAN_STATUS_NAMES = {"draft": {"zh": "草稿", "en": "draft"}, "published": {"zh": "已发布", "en": "published"},
                     "archived": {"zh": "已归档", "en": "archived"}}


def refusal_terms() -> dict[str, dict[str, str]]:
    """The words a refusal's parameters are said in, keyed "<parameter>.<value>" (a list parameter's items by its
    name less the plural s: rules -> rule.<rule>): actions, states (cases' from workflow.STATE_LABELS and plans'),
    levels (workflow's names), rules, fields and roles."""
    states = {state: {"zh": zh, "en": en} for state, (zh, en) in STATE_LABELS.items()} | PLAN_STATUS_NAMES
    levels = {str(n): {"zh": LEVEL_NAMES_ZH[n], "en": LEVEL_NAMES[n]} for n in LEVEL_NAMES}
    families = {"action": ACTION_NAMES, "status": states, "level": levels, "rule": RULE_NAMES, "field": FIELD_NAMES,
                "role": ROLE_NAMES}
    return {f"{family}.{key}": texts for family, table in families.items() for key, texts in table.items()}


def refusal_text(code: str | None, params: dict | None, lang: str = DEFAULT_LANG) -> str | None:
    """An API refusal in lang: its code's sentence filled from its params (geogrid.js refusalSentence is the pages'
    twin): a word the catalogue knows in its language, a list joined, a flag (a dict) by its reason; None for a code
    the catalogue does not know."""
    lang = check_lang(lang)
    sentence = REFUSAL_CODES.get(str(code), {}).get(lang)
    if sentence is None:
        return None
    terms = refusal_terms()

    def said(name: str, value: object) -> str:
        if isinstance(value, dict):
            return flag_reason(value, lang)
        if isinstance(value, list):
            joiner = ("；" if lang == "zh" else "; ") if any(isinstance(v, dict) for v in value) else \
                ("、" if lang == "zh" else ", ")
            return joiner.join(said(name[:-1] if name.endswith("s") else name, item) for item in value)
        term = terms.get(f"{name}.{value}")
        return term[lang] if term else str(_number(value))

    values = {key: said(key, value) for key, value in (params or {}).items() if value is not None}
    return sentence.format_map(_Missing(values))


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

PLANNER_PAINT_LABELS = {  # the planner's brush (planner.brush.*) and per-grid bars (planner.bars.*): issue 20
    "zh": {
        "planner.brush.start": "刷选楼栋", "planner.brush.stop": "结束刷选", "planner.brush.target": "刷入网格",
        "planner.brush.size": "笔刷大小",
        "planner.brush.hint": "在地图上按住并拖动，笔刷经过的楼栋即归入目标网格；松开后一次保存，可一步撤销。",
        "planner.brush.painting": "刷选中", "planner.brush.buildings": "栋",
        "planner.brush.painted": "已刷入", "planner.brush.refused": "刷选未保存，已恢复原状：",
        "planner.brush.not_neighbour": "楼栋所在网格与目标网格不相邻",
        "planner.brush.not_whole": "会留下空隙或重叠",
        "planner.brush.split_tower": "按单元拆分的楼栋请单独移动",
        "planner.brush.towers_skipped": "按单元拆分的楼栋不能刷选，请点击后单独移动",
        "planner.bars.title": "各网格与规则区间", "planner.bars.households": "户数", "planner.bars.population": "人口",
        "planner.bars.compactness": "紧凑度", "planner.bars.window": "规则区间",
        "planner.bars.below": "低于下限 {n}", "planner.bars.above": "超出上限 {n}", "planner.bars.room": "距边界 {n}",
        "planner.bars.inside": "区间内", "planner.bars.near": "接近边界", "planner.bars.outside": "超出区间",
        "planner.bars.compactness_hint": "紧凑度：4π×面积÷周长²，圆为1，越狭长越接近0",
    },
    "en": {
        "planner.brush.start": "Paint buildings", "planner.brush.stop": "Stop painting", "planner.brush.target": "Paint into grid",
        "planner.brush.size": "Brush size",
        "planner.brush.hint": "Press and drag on the map: each building the brush passes joins the target grid; on "
                              "release the stroke is saved as one edit, undone in one step.",
        "planner.brush.painting": "Painting", "planner.brush.buildings": "bldgs",
        "planner.brush.painted": "Painted", "planner.brush.refused": "The stroke was not saved and is rolled back:",
        "planner.brush.not_neighbour": "a building's grid does not border the target grid",
        "planner.brush.not_whole": "it would leave a gap or an overlap",
        "planner.brush.split_tower": "move a tower split by units on its own",
        "planner.brush.towers_skipped": "towers split by units are not painted: click one to move its units",
        "planner.bars.title": "Grids against the rule windows", "planner.bars.households": "Households",
        "planner.bars.population": "Residents", "planner.bars.compactness": "Compactness", "planner.bars.window": "window",
        "planner.bars.below": "{n} below", "planner.bars.above": "{n} over", "planner.bars.room": "{n} to the edge",
        "planner.bars.inside": "inside", "planner.bars.near": "near the edge", "planner.bars.outside": "outside",
        "planner.bars.compactness_hint": "Compactness (Polsby-Popper): 4π·area/perimeter², 1 for a circle, near 0 for a sliver",
    },
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
    own = SCRIPT_LABELS.get(page, {}).get(lang, {}) | (PLANNER_PAINT_LABELS[lang] if page == "planner" else {})
    rules = {f"rule.{rule}": texts[lang] for rule, texts in RULE_NAMES.items()} if page != "login" else {}
    refusals = {f"refusal.{code}": texts[lang] for code, texts in REFUSAL_CODES.items()} | {
        f"term.{key}": texts[lang] for key, texts in refusal_terms().items()} if page != "login" else {}
    return common | reasons | rules | refusals | own


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
