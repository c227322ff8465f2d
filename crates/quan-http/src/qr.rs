//! QR images of dynamic codes: SVG (vector, for pages) and PNG (for apps
//! and printers). Error correction level M; a four-module quiet zone.

use qrcode::{EcLevel, QrCode};

/// Pixels per module in PNG images.
pub const PNG_MODULE_PX: u32 = 8;
const QUIET_MODULES: u32 = 4;

fn qr(data: &str) -> Result<QrCode, String> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot encode a QR code: {e}"))
}

pub fn svg(data: &str) -> Result<String, String> {
    Ok(qr(data)?.render::<qrcode::render::svg::Color<'_>>().quiet_zone(true).min_dimensions(256, 256).build())
}

pub fn png(data: &str) -> Result<Vec<u8>, String> {
    let code = qr(data)?;
    let modules = u32::try_from(code.width()).map_err(|e| e.to_string())?;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_MODULES) * PNG_MODULE_PX;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let i = u32::try_from(i).map_err(|e| e.to_string())?;
        let (mx, my) = (i % modules + QUIET_MODULES, i / modules + QUIET_MODULES);
        for y in my * PNG_MODULE_PX..(my + 1) * PNG_MODULE_PX {
            let row = (y * side) as usize;
            pixels[row + (mx * PNG_MODULE_PX) as usize..row + ((mx + 1) * PNG_MODULE_PX) as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&pixels).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_png_has_the_png_signature_and_an_svg_is_an_svg() {
        let p = super::png("0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQ").unwrap_or_default();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        let s = super::svg("ABC").unwrap_or_default();
        assert!(s.contains("<svg") && s.contains("</svg>"), "{s}");
    }
}
