//! The notification events of enquiries (`ttx-notify`), built here and emitted in the
//! transaction of the change, each addressed to one side. They carry ids, titles and statuses,
//! never contact details nor confidential parts.
use crate::domain::Side;
use crate::entity::enquiry;
use serde_json::json;
use ttx_notify::events::{
    ENQUIRY_ACCEPTED, ENQUIRY_ACCESS_GRANTED, ENQUIRY_CLOSED, ENQUIRY_DECLINED, ENQUIRY_MESSAGE,
    ENQUIRY_NDA_ACCEPTED, ENQUIRY_RECEIVED,
};
use ttx_notify::NewEvent;

fn org_of(e: &enquiry::Model, side: Side) -> i64 {
    match side {
        Side::Sender => e.sender_org_id,
        Side::Owner => e.owner_org_id,
    }
}

fn data(e: &enquiry::Model, title: &str) -> serde_json::Value {
    json!({
        "enquiry_id": e.id,
        "subject_type": e.subject_type,
        "subject_id": e.subject_id,
        "subject_title": title,
        "purpose": e.purpose,
        "status": e.status,
    })
}

fn event(
    kind: &'static str,
    e: &enquiry::Model,
    to: Side,
    data: serde_json::Value,
    zh: String,
    en: String,
) -> NewEvent {
    NewEvent {
        kind,
        org_id: org_of(e, to),
        subject_type: "enquiry",
        subject_id: Some(e.id),
        data,
        title_zh: zh,
        title_en: en,
    }
}

/// To the owner: an enquiry arrived (the sender's organisation named).
pub fn received(e: &enquiry::Model, title: &str, sender_name: &str) -> NewEvent {
    let mut d = data(e, title);
    d["sender_org_id"] = json!(e.sender_org_id);
    d["sender_name"] = json!(sender_name);
    event(
        ENQUIRY_RECEIVED,
        e,
        Side::Owner,
        d,
        format!("{sender_name}咨询「{title}」"),
        format!("{sender_name} sent an enquiry about “{title}”"),
    )
}

/// To the other side: a message in the thread.
pub fn message(e: &enquiry::Model, title: &str, from: Side, message_id: i64) -> NewEvent {
    let mut d = data(e, title);
    d["message_id"] = json!(message_id);
    d["from"] = json!(from.as_str());
    event(
        ENQUIRY_MESSAGE,
        e,
        from.other(),
        d,
        format!("关于「{title}」的咨询有新留言"),
        format!("New message on the enquiry about “{title}”"),
    )
}

/// To the sender: accepted; the contact details can be read now.
pub fn accepted(e: &enquiry::Model, title: &str) -> NewEvent {
    event(
        ENQUIRY_ACCEPTED,
        e,
        Side::Sender,
        data(e, title),
        format!("您关于「{title}」的咨询已被接受，可查看联系方式"),
        format!("Your enquiry about “{title}” was accepted; the contact details are visible"),
    )
}

/// To the sender: declined, with the reason.
pub fn declined(e: &enquiry::Model, title: &str, reason: &str) -> NewEvent {
    let mut d = data(e, title);
    d["reason"] = json!(reason);
    event(
        ENQUIRY_DECLINED,
        e,
        Side::Sender,
        d,
        format!("您关于「{title}」的咨询已被婉拒"),
        format!("Your enquiry about “{title}” was declined"),
    )
}

/// To the other side: closed.
pub fn closed(e: &enquiry::Model, title: &str, by: Side) -> NewEvent {
    let mut d = data(e, title);
    d["closed_by"] = json!(by.as_str());
    event(
        ENQUIRY_CLOSED,
        e,
        by.other(),
        d,
        format!("关于「{title}」的咨询已关闭"),
        format!("The enquiry about “{title}” was closed"),
    )
}

/// To the owner: the sender accepted the NDA (this version).
pub fn nda_accepted(e: &enquiry::Model, title: &str, version: i32, auto: bool) -> NewEvent {
    let mut d = data(e, title);
    d["nda_version"] = json!(version);
    d["access_granted"] = json!(auto);
    event(
        ENQUIRY_NDA_ACCEPTED,
        e,
        Side::Owner,
        d,
        format!("咨询方已签署「{title}」的保密协议（第{version}版）"),
        format!("The enquirer accepted version {version} of the NDA of “{title}”"),
    )
}

/// To the sender: access to the confidential parts.
pub fn access_granted(e: &enquiry::Model, title: &str, version: i32) -> NewEvent {
    let mut d = data(e, title);
    d["nda_version"] = json!(version);
    event(
        ENQUIRY_ACCESS_GRANTED,
        e,
        Side::Sender,
        d,
        format!("已获准查看「{title}」的保密信息"),
        format!("You may read the confidential details of “{title}”"),
    )
}
