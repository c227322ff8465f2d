//! The camera: a resident points the phone at the till's code and
//! qr-scanner (its JavaScript decoder in a worker: Chromium on Linux has no
//! BarcodeDetector) fills the field. The camera is Chromium's fake device
//! playing a Y4M video of the real code.

use std::io::Write;

use qrcode::{Color, EcLevel, QrCode};
use quan_testkit::TestApp;
use quan_testkit::fixtures::shop;

use crate::support::{Browser, available, within};

const W: usize = 640;
const H: usize = 480;

/// A Y4M video (4:2:0, 10 frames) showing `text` as a QR code, black on white.
fn y4m(text: &str, path: &std::path::Path) {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap_or_else(|e| panic!("{e}"));
    let n = code.width();
    let colors = code.to_colors();
    let module = (H * 8 / 10) / (n + 8);
    let (x0, y0) = ((W - module * n) / 2, (H - module * n) / 2);
    let mut y = vec![235u8; W * H];
    for (i, c) in colors.iter().enumerate() {
        if *c != Color::Dark {
            continue;
        }
        let (mx, my) = (i % n, i / n);
        for row in y0 + my * module..y0 + (my + 1) * module {
            y[row * W + x0 + mx * module..row * W + x0 + (mx + 1) * module].fill(16);
        }
    }
    let chroma = vec![128u8; W / 2 * H / 2];
    let mut f = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let _ = writeln!(f, "YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg");
    for _ in 0..10 {
        let _ = f.write_all(b"FRAME\n");
        let _ = f.write_all(&y);
        let _ = f.write_all(&chroma);
        let _ = f.write_all(&chroma);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_reads_the_tills_code_into_the_pay_form() {
    if !available() {
        return;
    }
    let app = TestApp::sqlite().await;
    crate::flows::campaign(&app).await;
    let s = shop(&app, 1, "catering").await;
    let (_, till_code) = app.get(&format!("/api/v1/tills/{}/code", s.till), Some(&s.cashier)).await;
    let till_code = till_code["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(till_code.len(), 56);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let video = dir.path().join("till-code.y4m");
    y4m(&till_code, &video);

    let b = Browser::with_camera(&video).await;
    b.go(&app.url("/h5/login")).await;
    b.type_into("#phone", "13900004444").await;
    b.click("#send-code").await;
    b.find("#login-msg .msg_ok", 5).await;
    let code = app.sms.last_code("13900004444").unwrap_or_default();
    b.type_into("#code", &code).await;
    b.click("#login").await;
    b.find("a.batch", 10).await;
    b.go(&app.url("/h5/pay")).await;
    b.click(".scanner__start").await;
    within(20, "the camera's picture is read into the till code field", || async {
        b.find("#till_code", 1).await.prop("value").await.ok().flatten().unwrap_or_default() == till_code
    })
    .await;
    b.check_page(&app.base).await;
    b.quit().await;
    app.stop().await;
}
