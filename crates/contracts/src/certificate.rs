//! The registration certificate (技术合同登记证明) as data and as a printable HTML page.
use crate::entity::contract;
use crate::store;
use crate::view::{CertificateView, PartyView};
use ttx_core::{ContractKind, ContractSubKind, Fen, Labelled};
use ttx_web::ApiError;

/// The certificate of a registered (or terminated) contract.
pub fn build(m: &contract::Model, station_name: String) -> Result<CertificateView, ApiError> {
    let c = store::content_of(m)?;
    let number = m
        .registration_number
        .clone()
        .ok_or_else(|| ApiError::internal("certificate of an unregistered contract"))?;
    let rk: ContractKind = m
        .recognised_kind
        .as_deref()
        .and_then(|k| k.parse().ok())
        .unwrap_or(c.kind());
    let rs: ContractSubKind = m
        .recognised_sub_kind
        .as_deref()
        .and_then(|k| k.parse().ok())
        .unwrap_or(c.sub_kind);
    Ok(CertificateView {
        verify_path: format!("/v1/registrations/{number}"),
        registration_number: number,
        registered_on: m
            .registered_on
            .ok_or_else(|| ApiError::internal("registered contract without a date"))?,
        station_id: m.station_id.unwrap_or_default(),
        station_name,
        contract_id: m.id,
        title: m.title.clone(),
        recognised_kind: rk.as_str().into(),
        recognised_kind_zh: rk.zh().into(),
        recognised_sub_kind: rs.as_str().into(),
        recognised_sub_kind_zh: rs.zh().into(),
        seller: (&c.seller).into(),
        buyer: (&c.buyer).into(),
        others: c.others.iter().map(Into::into).collect(),
        contract_amount: m.contract_amount,
        technology_amount: m.technology_amount,
        signed_on: c.signed_on,
        term_start: c.term_start,
        term_end: c.term_end,
        tech_field: c.tech_field.as_str().into(),
        tech_field_zh: c.tech_field.zh().into(),
        status: m.status.clone(),
        terminated_on: m.terminated_on,
    })
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An amount as printed on the certificate: 元 with separators, and in Chinese capitals.
fn amount_cell(fen: i64) -> String {
    format!(
        "{} 元<div class=\"sub\">大写：{}</div>",
        ttx_core::capitals::yuan_with_separators(Fen(fen)),
        ttx_core::capitals::capitals(Fen(fen))
    )
}

/// The QR code of `url` as inline SVG (rendered here: the page loads nothing from outside).
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(132, 132)
                .quiet_zone(true)
                .build();
            // Inline in HTML: without the XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

/// The public verification URL of a certificate: `base` (the service's public URL) and the
/// certificate's verification path.
pub fn verify_url(base: &str, c: &CertificateView) -> String {
    format!("{}{}", base.trim_end_matches('/'), c.verify_path)
}

fn party_row(role: &str, p: &PartyView) -> String {
    format!(
        "<tr><th>{}</th><td>{}<div class=\"sub\">{}{} · {}</div></td></tr>",
        escape(role),
        escape(&p.name),
        p.credit_code
            .as_deref()
            .map(|c| format!("统一社会信用代码 {} · ", escape(c)))
            .unwrap_or_default(),
        escape(&p.entity_kind_zh),
        escape(&p.region_name),
    )
}

/// A self-contained printable page (no external assets); `verify_url` goes into the QR code.
pub fn html(c: &CertificateView, verify_url: &str) -> String {
    let mut rows = String::new();
    let mut row = |k: &str, v: String| {
        rows.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), v));
    };
    row(
        "登记编号",
        format!("<b class=\"no\">{}</b>", escape(&c.registration_number)),
    );
    row("合同名称", escape(&c.title));
    row(
        "认定类别",
        format!(
            "{}（{}）",
            escape(&c.recognised_kind_zh),
            escape(&c.recognised_sub_kind_zh)
        ),
    );
    row("技术领域", escape(&c.tech_field_zh));
    row("合同成交额", amount_cell(c.contract_amount));
    row("技术交易额", amount_cell(c.technology_amount));
    row("签订日期", c.signed_on.to_string());
    row(
        "合同期限",
        match (c.term_start, c.term_end) {
            (Some(s), Some(e)) => format!("{s} 至 {e}"),
            _ => "—".into(),
        },
    );
    row("登记日期", c.registered_on.to_string());
    row("登记机构", escape(&c.station_name));
    let mut parties = party_row("卖方（研究开发方/转让方/许可方/受托方）", &c.seller);
    parties.push_str(&party_row("买方（委托方/受让方/被许可方）", &c.buyer));
    for p in &c.others {
        parties.push_str(&party_row("其他当事人", p));
    }
    let void = if c.status == "terminated" {
        format!(
            "<p class=\"void\">本合同已于 {} 终止</p>",
            c.terminated_on.map(|d| d.to_string()).unwrap_or_default()
        )
    } else {
        String::new()
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>技术合同登记证明 {number}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: "Songti SC", "SimSun", serif; color: #111; max-width: 180mm; margin: 0 auto; }}
h1 {{ text-align: center; letter-spacing: .3em; font-size: 26px; margin: 24px 0 4px; }}
.en {{ text-align: center; color: #555; margin-bottom: 24px; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border: 1px solid #333; padding: 8px 10px; text-align: left; vertical-align: top; }}
th {{ width: 32%; background: #f4f4f4; font-weight: normal; }}
.sub {{ color: #555; font-size: 12px; margin-top: 2px; }}
.no {{ font-family: monospace; font-size: 16px; letter-spacing: .05em; }}
.void {{ color: #b00; font-size: 20px; text-align: center; border: 2px solid #b00; padding: 6px; }}
.foot {{ margin-top: 28px; font-size: 12px; color: #444; }}
.seal {{ float: right; margin-top: 24px; text-align: center; }}
.qr {{ float: left; margin-top: 16px; text-align: center; font-size: 11px; color: #444; }}
.qr svg {{ width: 34mm; height: 34mm; display: block; }}
</style></head>
<body>
<h1>技术合同登记证明</h1>
<div class="en">Certificate of Technology Contract Registration</div>
{void}
<table>{rows}{parties}</table>
<div class="qr">{qr}扫码核验</div>
<div class="seal">{station}<br>{date}</div>
<div style="clear: both"></div>
<div class="foot">本证明依据《技术合同认定登记管理办法》出具。真伪可通过 TTX 查询：<code>{verify}</code>（附 <code>?technology_amount=</code> 金额（分）可核对本证明所载技术交易额）</div>
</body></html>
"#,
        number = escape(&c.registration_number),
        station = escape(&c.station_name),
        date = c.registered_on,
        verify = escape(verify_url),
        qr = qr_svg(verify_url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("技术开发"), "技术开发");
    }

    #[test]
    fn amounts_in_yuan() {
        assert_eq!(
            amount_cell(123_450_050),
            "1,234,500.50 元<div class=\"sub\">大写：壹佰贰拾叁万肆仟伍佰元伍角</div>"
        );
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("https://ttx.example.cn/v1/registrations/110108202600000001");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("<path") || svg.contains("<rect"));
        assert!(!svg.contains("http://www.w3.org/1999/xlink\" xlink:href"));
    }
}
