//! What every page's frame needs: its files' addresses and the CSRF token.

use crate::assets::url;

/// The frame of a page (`templates/base.html`).
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Sent back by htmx in `X-CSRF-Token`; empty before signing in.
    pub csrf: String,
    pub weui: String,
    pub css: String,
    pub htmx: String,
    pub sse: String,
    pub js: String,
    /// The QR scanner, only on pages that scan.
    pub scanner: Option<String>,
    /// ECharts and the console's chart code, only on chart pages.
    pub charts: Option<(String, String)>,
}

impl Chrome {
    /// A page of someone signed in, with their CSRF token.
    pub fn signed(csrf: &str) -> Chrome {
        Chrome {
            csrf: csrf.to_owned(),
            weui: url("vendor/weui.min.css"),
            css: url("quan.css"),
            htmx: url("vendor/htmx.min.js"),
            sse: url("vendor/sse.min.js"),
            js: url("quan.js"),
            scanner: None,
            charts: None,
        }
    }

    /// A page before signing in.
    pub fn public() -> Chrome {
        Chrome::signed("")
    }

    /// This page also scans QR codes with the camera.
    pub fn scanning(mut self) -> Chrome {
        self.scanner = Some(url("vendor/qr-scanner.umd.min.js"));
        self
    }
}

impl Chrome {
    /// This page draws charts (ECharts, 369 KB gzip: chart pages only).
    pub fn charting(mut self) -> Chrome {
        self.charts = Some((url("vendor/echarts.min.js"), url("charts.js")));
        self
    }
}
