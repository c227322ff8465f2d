//! Complaints, on every page set that shows them.

use quan_domain::Role;

pub const FILED: &str = "提交投诉";
pub const FORM_UNREADABLE: &str = "表单读取失败，请重新提交";
pub const NO_TICKET: &str = "没有这条投诉";

/// Who did something to a ticket, as the resident and staff read it.
pub fn who(role: Role) -> &'static str {
    match role {
        Role::Resident => "投诉人",
        Role::Operator => "客服",
        Role::Official => "主管部门",
        Role::MerchantOwner => "商户",
        _ => "系统",
    }
}
