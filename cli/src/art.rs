//! Terminal pictures: a QR code in Unicode half blocks, and a user code in large letters.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// A QR code of `data`, two modules per character cell (▀ ▄ █).
///
/// With `colors`, each line is drawn black on white so it scans on dark and light terminals
/// alike; without, light modules are drawn as blocks (the usual convention for dark terminals).
pub fn qr(data: &str, colors: bool) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let (dark, light) = if colors {
        (Dense1x2::Dark, Dense1x2::Light)
    } else {
        (Dense1x2::Light, Dense1x2::Dark)
    };
    let image = code
        .render::<Dense1x2>()
        .dark_color(dark)
        .light_color(light)
        .build();
    if !colors {
        return Some(image);
    }
    // Black foreground on bright white background, reset at the end of each line.
    Some(
        image
            .lines()
            .map(|line| format!("\x1b[30;107m{line}\x1b[0m"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

const HEIGHT: usize = 5;

/// A 5×5 glyph, `#` for ink.
fn glyph(c: char) -> Option<[&'static str; HEIGHT]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [" ### ", "#   #", "#####", "#   #", "#   #"],
        'B' => ["#### ", "#   #", "#### ", "#   #", "#### "],
        'C' => [" ####", "#    ", "#    ", "#    ", " ####"],
        'D' => ["#### ", "#   #", "#   #", "#   #", "#### "],
        'E' => ["#####", "#    ", "#### ", "#    ", "#####"],
        'F' => ["#####", "#    ", "#### ", "#    ", "#    "],
        'G' => [" ####", "#    ", "#  ##", "#   #", " ####"],
        'H' => ["#   #", "#   #", "#####", "#   #", "#   #"],
        'I' => ["#####", "  #  ", "  #  ", "  #  ", "#####"],
        'J' => ["#####", "   # ", "   # ", "#  # ", " ##  "],
        'K' => ["#   #", "#  # ", "###  ", "#  # ", "#   #"],
        'L' => ["#    ", "#    ", "#    ", "#    ", "#####"],
        'M' => ["#   #", "## ##", "# # #", "#   #", "#   #"],
        'N' => ["#   #", "##  #", "# # #", "#  ##", "#   #"],
        'O' => [" ### ", "#   #", "#   #", "#   #", " ### "],
        'P' => ["#### ", "#   #", "#### ", "#    ", "#    "],
        'Q' => [" ### ", "#   #", "# # #", "#  # ", " ## #"],
        'R' => ["#### ", "#   #", "#### ", "#  # ", "#   #"],
        'S' => [" ####", "#    ", " ### ", "    #", "#### "],
        'T' => ["#####", "  #  ", "  #  ", "  #  ", "  #  "],
        'U' => ["#   #", "#   #", "#   #", "#   #", " ### "],
        'V' => ["#   #", "#   #", "#   #", " # # ", "  #  "],
        'W' => ["#   #", "#   #", "# # #", "## ##", "#   #"],
        'X' => ["#   #", " # # ", "  #  ", " # # ", "#   #"],
        'Y' => ["#   #", " # # ", "  #  ", "  #  ", "  #  "],
        'Z' => ["#####", "   # ", "  #  ", " #   ", "#####"],
        '0' => [" ### ", "#  ##", "# # #", "##  #", " ### "],
        '1' => ["  #  ", " ##  ", "  #  ", "  #  ", " ### "],
        '2' => [" ### ", "#   #", "  ## ", " #   ", "#####"],
        '3' => ["#### ", "    #", " ### ", "    #", "#### "],
        '4' => ["#   #", "#   #", "#####", "    #", "    #"],
        '5' => ["#####", "#    ", "#### ", "    #", "#### "],
        '6' => [" ### ", "#    ", "#### ", "#   #", " ### "],
        '7' => ["#####", "    #", "   # ", "  #  ", "  #  "],
        '8' => [" ### ", "#   #", " ### ", "#   #", " ### "],
        '9' => [" ### ", "#   #", " ####", "    #", " ### "],
        '-' => ["     ", "     ", " ### ", "     ", "     "],
        ' ' => ["     ", "     ", "     ", "     ", "     "],
        _ => return None,
    })
}

/// `text` in 5-line block letters, or `None` when a character has no glyph or the result
/// would be wider than `max_width` columns.
pub fn big_text(text: &str, max_width: usize) -> Option<String> {
    let glyphs: Vec<_> = text.chars().map(glyph).collect::<Option<_>>()?;
    let width = glyphs.len() * 6;
    if glyphs.is_empty() || width > max_width {
        return None;
    }
    let rows: Vec<String> = (0..HEIGHT)
        .map(|row| {
            glyphs
                .iter()
                .map(|g| g[row].replace('#', "█"))
                .collect::<Vec<_>>()
                .join(" ")
                .trim_end()
                .to_owned()
        })
        .collect();
    Some(rows.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_uses_half_blocks() {
        let qr = qr("http://127.0.0.1:8765/device?user_code=BCDF-GHJK", false).unwrap();
        assert!(qr.contains('▀') && qr.contains('▄'));
        assert!(!qr.contains('\x1b'));
    }

    #[test]
    fn user_codes_have_a_glyph_for_every_character() {
        let big = big_text("BCDF-GHJK", 80).unwrap();
        assert_eq!(big.lines().count(), 5);
        assert!(big_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", 1000).is_some());
        assert!(big_text("BCDF-GHJK", 20).is_none());
        assert!(big_text("é", 80).is_none());
    }
}
