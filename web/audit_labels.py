"""The audit log in words an auditor reads: each event name and each detail key in Chinese.

The stored events keep their code names (the hash chain covers them); only the page translates.
An event or key not listed here is shown as stored, so a new event is never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

EVENTS = {
    "login.ok": "登录成功", "login.fail": "登录失败", "token.issue": "签发接口令牌",
    "access.refused": "越权访问被拒绝", "request.refused": "请求被拒绝", "csrf.refused": "表单校验失败被拒绝",
    "rate.limited": "访问过于频繁被限制", "attachment.refused": "附件被拒绝", "start.refused": "发起流程被拒绝",
    "person.create": "新增人员", "person.freeze": "冻结账号", "person.unfreeze": "解冻账号",
    "person.move": "调整人员单位", "person.password": "重置密码", "person.password_refused": "重置密码被拒绝",
    "person.sessions_end": "强制下线", "person.unlock": "解除登录锁定",
    "role.grant": "授予角色", "role.grant_refused": "授予角色被拒绝", "role.revoke": "撤销角色",
    "unit.create": "新增单位", "department.create": "新增部门",
    "definition.deploy": "部署流程", "instance.start": "启动流程", "instance.complete": "流程办结",
    "task.complete": "办理任务", "task.refused": "办理被拒绝", "task.claim": "认领任务",
    "task.unclaim": "放回任务", "task.delegate": "转交任务", "timer.fire": "定时触发",
    "message.receive": "收到消息", "message.dead_letter": "消息无法投递",
    "outbox.failed": "外发失败", "outbox.redeliver": "重新外发",
    "incident.open": "流程故障", "incident.retry": "故障重试",
    "document.draft": "拟稿", "document.revise": "修改文稿", "document.sign_off": "签发",
    "document.number": "编发文字号", "document.typeset": "套红排版", "document.seal": "用印",
    "document.correct": "更正", "document.dispatch": "分发", "document.redispatch": "重新分发",
    "document.print_copies": "打印纸质件", "document.print_copies_refused": "打印纸质件被拒绝",
    "document.arrive": "来文到达", "opinion.sign": "意见签名",
    "document.forward": "转发", "document.forward.refused": "转发被拒绝", "department_box.open": "开设处室收文箱",
    "receipt.signed": "签收", "receipt.returned": "退回来文", "receipt.overdue": "逾期未签收",
    "receipt.chase": "催签", "receipt.escalate": "逾期告知分管领导",
    "sign_for.batch": "批量签收", "sign_for.batch_refused": "批量签收被拒绝",
    "external.register": "外来文登记", "external.register_refused": "外来文登记被拒绝",
    "external.text": "外来文文字识别",
    "incoming.register": "收文登记", "incoming.instruct": "领导批示", "incoming.handle": "承办",
    "incoming.circulate": "传阅", "archive.item": "归档", "archive.export": "导出归档包",
    "archive.started": "交本单位档案员归档", "archive.search_refused": "档案查询被拒绝",
    "archive.file_refused": "调阅档案文件被拒绝", "archive.appraisal_proposed": "提出档案鉴定意见",
    "archive.appraise_refused": "档案鉴定意见被拒绝", "archive.appraisal_decided": "审批档案鉴定意见",
    "archive.decide_refused": "档案鉴定审批被拒绝", "archive.destroyed": "批准销毁档案",
    "archive.files_erased": "删除已销毁档案的文件",
    "numbering.set_next": "设置文号起始号", "numbering.add_series": "新增发文字号系列",
    "numbering.add_series_refused": "新增发文字号系列被拒绝", "numbering.retire_series": "停用发文字号系列",
    "numbering.retire_series_refused": "停用发文字号系列被拒绝", "deadline.set": "设置签收时限",
    "calendar.override": "调整工作日", "calendar.year_entered": "录入年度节假日",
    "distribution_list.save": "保存分发名单", "distribution_list.delete": "删除分发名单",
    "ca.create": "建立证书机构", "ca.crl": "发布吊销列表", "tsa.create": "建立时间戳服务",
    "seal.issue": "制发电子印章", "seal.revoke": "吊销电子印章", "seal.supersede": "换发电子印章",
    "seal.apply_refused": "印章申请被拒绝", "seal.explanation_file": "上传印章申请说明",
    "seal.explanation_refused": "印章申请说明被拒绝",
    "personal_certificate.apply": "申请个人证书", "personal_certificate.apply_refused": "申请个人证书被拒绝",
    "personal_certificate.issue": "签发个人证书", "personal_certificate.issue_refused": "签发个人证书被拒绝",
    "personal_certificate.decline": "驳回个人证书申请", "personal_certificate.revoke": "吊销个人证书",
    "personal_certificate.suspend": "暂停个人证书", "personal_certificate.lift": "恢复个人证书",
    "personal_certificate.report_lost_refused": "挂失个人证书被拒绝",
    "contact.appoint": "登记收发文联系人", "contact.replace": "更换收发文联系人",
    "contact.remove": "撤销收发文联系人", "contact.appoint_refused": "登记收发文联系人被拒绝",
    "contact.replace_refused": "更换收发文联系人被拒绝", "contact.remove_refused": "撤销收发文联系人被拒绝",
    "announcement.publish": "发布公告", "announcement.publish_refused": "发布公告被拒绝",
    "announcement.read": "阅读公告", "mail.send": "发送站内邮件", "mail.send_refused": "发送站内邮件被拒绝",
    "mail.read": "阅读站内邮件", "phone_notice.record": "登记电话通知",
    "phone_notice.record_refused": "登记电话通知被拒绝", "phone_notice.done": "电话通知办结",
    "notify": "发送通知", "notice.settings": "修改通知方式", "notice.settings_refused": "修改通知方式被拒绝",
    "sms.failed": "短信发送失败", "sms.report_refused": "短信回执被拒绝",
    "sms.texting_off": "关闭短信", "sms.texting_on": "开启短信",
    "supervision.refused": "督查查询被拒绝", "supervision.period_refused": "督查期间被拒绝",
    "supervision.bulletin_refused": "生成通报被拒绝", "supervision.spot_check_refused": "抽查被拒绝",
    "bulletin.draft": "生成通报", "bulletin.template": "更换通报模板",
    "backup.create": "备份", "backup.restore": "恢复备份",
    "fault.report": "报告故障", "fault.report_refused": "报告故障被拒绝", "fault.arrange": "安排维修",
    "fault.repaired": "故障修复", "fault.remind": "催修", "fault.escalate": "维修逾期上报",
    "fault.paper_sent": "纸质送达", "fault.paper_sent_refused": "纸质送达登记被拒绝",
    "handover.start": "发起工作交接", "handover.start_refused": "发起工作交接被拒绝",
    "handover.confirm": "确认工作交接", "handover.sign_off": "分管领导签字交接",
    "meeting.send": "发送会议通知", "meeting.send_refused": "发送会议通知被拒绝", "meeting.answer": "填报会议回执",
    "meeting.change": "变更会议", "meeting.cancel": "取消会议", "meeting.remind": "催报会议回执",
    "opinion.saved": "保存常用意见", "opinion.removed": "删除常用意见",
    "register.filter_refused": "登记簿查询被拒绝", "register.export": "导出登记簿",
    "meeting.export": "导出参会名单", "person.job_title": "修改职务",
    "task.reassign": "转交待办", "task.reassign_refused": "转交待办被拒绝",
}

DETAILS = {
    "task": "步骤代码", "task_name": "步骤", "task_id": "任务", "instance_id": "流程实例", "process_id": "流程",
    "document_id": "公文", "doc_number": "文号", "version": "版本", "status": "状态", "reason": "原因",
    "why": "原因", "person_id": "人员", "to_person_id": "转交给", "login": "登录名", "name": "名称",
    "role": "角色", "unit_id": "单位", "units": "单位", "department_id": "部门", "kind": "类别",
    "recipients": "接收人数", "recipient": "接收方", "readers": "传阅人员", "due": "期限", "urgency": "紧急程度",
    "count": "件数", "signed": "已签收", "not_signed": "未签收", "method": "请求方式", "path": "地址",
    "serial": "证书序列号", "seal": "印章", "seals": "印章", "signers": "签章", "certificate_id": "证书",
    "code": "代码", "year": "年度", "number": "编号", "next_seq": "下一个序号", "day": "日期",
    "amount": "时限", "measure": "计量方式", "size": "大小（字节）", "bytes": "大小（字节）",
    "filename": "文件名", "files": "文件数", "pages": "页数", "sha256": "摘要", "algorithm": "算法",
    "period": "期间", "list_id": "分发名单", "contact_id": "联系人登记", "new_contact_id": "新联系人登记",
    "duty": "职责", "topic": "主题", "message": "消息", "outbox_id": "外发记录", "attempts": "尝试次数",
    "error": "错误", "incident_id": "故障", "texted": "短信人数", "text_id": "短信", "invalid_since": "失效自",
    "revoked": "已吊销", "replaces": "替代", "reply_document_id": "复文", "crl_number": "吊销列表序号",
    "saved_opinion_id": "常用意见", "changed": "变更", "change": "变更", "field": "字段", "fields": "字段",
    "key": "键", "correlation": "关联", "revision": "版本号", "alembic_revision": "数据库版本",
    "backend": "数据库", "backup_created_at": "备份时间", "manifest": "清单", "reset": "重置", "pdf": "文件",
    "appraisal_id": "鉴定意见", "proposal": "鉴定结论", "approved": "批准", "item_id": "档案",
    "archive_instance_id": "归档流程",
    "note": "说明", "external_document_id": "外来文", "paper": "纸质来文", "editable_kind": "可编辑文档类型",
    "source": "文字来源", "failed": "识别失败",
    "original_id": "原公文",
    "announcement_id": "公告", "mail_id": "站内邮件", "phone_notice_id": "电话通知记录",
    "assignee_id": "办理人", "by": "办理人",
}


def event_label(action: str) -> str:
    """The event's name in Chinese, or its stored name when it has none."""
    return EVENTS.get(action, action)


def detail_items(detail: Mapping[str, object]) -> list[tuple[str, object]]:
    """The detail's (Chinese key, value) pairs, in stored order; an unknown key kept as stored."""
    return [(DETAILS.get(key, key), value) for key, value in detail.items()]
