//! A browser for a test: chromedriver on a free port, a headless Chromium
//! at 390×844 (a phone), and small waits; and the checks every page must
//! pass (no horizontal scroll, every request to the server itself).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A running chromedriver and one browser session on it.
pub struct Browser {
    pub driver: WebDriver,
    driver_process: Child,
    _profile: tempfile::TempDir,
}

/// Whether the browser is here; under `CI=true` its absence fails the test.
pub fn available() -> bool {
    let here = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !here {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium and chromedriver are required in CI (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
    }
    here
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("a free port: {e}"));
    l.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"))
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// A browser whose camera films `y4m` (a Y4M video), allowed without asking.
    pub async fn with_camera(y4m: &std::path::Path) -> Browser {
        let file = format!("--use-file-for-fake-video-capture={}", y4m.display());
        Browser::start_with(&["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", &file]).await
    }

    async fn start_with(extra: &[&str]) -> Browser {
        let port = free_port();
        let driver_process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver: {e}"));
        let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap_or_else(|e| panic!("{e}"));
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=390,844",
            "--lang=zh-CN",
        ] {
            caps.add_arg(arg).unwrap_or_else(|e| panic!("{e}"));
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display())).unwrap_or_else(|e| panic!("{e}"));
        for arg in extra {
            caps.add_arg(arg).unwrap_or_else(|e| panic!("{e}"));
        }
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let driver = loop {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(d) => break d,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        // A phone's viewport: 390×844 CSS pixels, whatever the window's frame.
        driver
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                serde_json::json!({"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Browser { driver, driver_process, _profile: profile }
    }

    /// The browser reports this position (WGS-84) and may use it.
    pub async fn place_at(&self, base: &str, lat: f64, lng: f64) {
        let cdp = self.driver.cdp();
        cdp.send_raw("Browser.grantPermissions", serde_json::json!({"permissions": ["geolocation"], "origin": base}))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        cdp.send_raw(
            "Emulation.setGeolocationOverride",
            serde_json::json!({"latitude": lat, "longitude": lng, "accuracy": 15}),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }

    pub async fn go(&self, url: &str) {
        self.driver.goto(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    /// The first element matching `css`, waiting up to `secs` for it.
    pub async fn find(&self, css: &str, secs: u64) -> WebElement {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(e) = self.driver.find(By::Css(css)).await {
                return e;
            }
            if Instant::now() > until {
                let html = self.driver.source().await.unwrap_or_default();
                panic!("no {css} within {secs} s; the page:\n{}", &html[..html.len().min(4000)]);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css, 5).await;
        e.clear().await.unwrap_or_else(|err| panic!("{css}: {err}"));
        e.send_keys(text).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    }

    pub async fn click(&self, css: &str) {
        if let Err(e) = self.find(css, 5).await.click().await {
            let shot = std::env::temp_dir().join("quan-browser-failure.png");
            let _ = self.driver.screenshot(&shot).await;
            panic!("{css}: {e} (the page: {})", shot.display());
        }
    }

    pub async fn text(&self, css: &str, secs: u64) -> String {
        self.find(css, secs).await.text().await.unwrap_or_default()
    }

    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.driver.execute(js, Vec::new()).await.map(|r| r.json().clone()).unwrap_or_else(|e| panic!("{js}: {e}"))
    }

    /// The checks every page passes: nothing wider than the phone, and every
    /// request the page made went to the server itself.
    pub async fn check_page(&self, base: &str) {
        let wide = self.script("return [document.documentElement.scrollWidth, window.innerWidth];").await;
        let (scroll, inner) = (wide[0].as_i64().unwrap_or(0), wide[1].as_i64().unwrap_or(0));
        let url = self.driver.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(scroll <= inner, "{url} scrolls sideways: {scroll} > {inner}");
        let urls = self
            .script("return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map(e => e.name);")
            .await;
        let urls: Vec<String> =
            urls.as_array().into_iter().flatten().filter_map(|u| u.as_str().map(str::to_owned)).collect();
        assert!(!urls.is_empty(), "{url}: the browser recorded no requests");
        for u in &urls {
            assert!(u.starts_with(base), "{url} fetched {u}, which is not the server's own");
        }
    }

    /// A picture of the page, when `QUAN_SCREENSHOTS` names a folder.
    pub async fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("QUAN_SCREENSHOTS") {
            let path = std::path::Path::new(&dir).join(format!("{name}.png"));
            self.driver.screenshot(&path).await.unwrap_or_else(|e| panic!("{e}"));
        }
    }

    pub async fn quit(mut self) {
        let _ = self.driver.clone().quit().await;
        let _ = self.driver_process.kill();
        let _ = self.driver_process.wait();
    }
}

/// Waits until `check` holds, up to `secs`; the time it took.
pub async fn within<F, Fut>(secs: u64, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(secs), "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs in to the console and waits for its home page.
pub async fn sign_in(app: &quan_testkit::TestApp, b: &Browser, username: &str, password: &str) {
    b.go(&app.url("/console/login")).await;
    b.type_into("#username", username).await;
    b.type_into("#password", password).await;
    b.click("#login").await;
    b.find("#campaigns", 10).await;
}
