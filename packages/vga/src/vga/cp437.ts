/**
 * Code page 437, the character set of the IBM PC's ROM font, as Unicode (the
 * Unicode Consortium's mapping of CP437, with the ROM's glyphs for the
 * control codes 01h–1Fh and 7Fh). Byte 00h, which the ROM draws blank, is a
 * space; FFh is the no-break space it stands for.
 */
const CONTROL = ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';
const HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function table(): readonly string[] {
  const chars: string[] = Array.from(CONTROL);
  for (let code = 0x20; code < 0x7f; code++) chars.push(String.fromCharCode(code));
  chars.push('⌂', ...Array.from(HIGH));
  return chars;
}

/** CP437_UNICODE[byte] is the character the ROM font draws for `byte`. */
export const CP437_UNICODE: readonly string[] = table();
