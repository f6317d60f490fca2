export type { I8042Config, I8042State, I8042Stats, KeyboardLeds, OutputByte } from './i8042/i8042.ts';
export { I8042, KeyboardInputError } from './i8042/i8042.ts';
export { CommandByte, ControllerCommand, INPUT_PORT, OutputPort, Status } from './i8042/registers.ts';
export type { KeyEvent, Ps2KeyboardState } from './ps2-keyboard/keyboard.ts';
export { KEYBOARD_BUFFER_BYTES, KEYBOARD_ID, KeyboardCommand, KeyboardReply } from './ps2-keyboard/commands.ts';
export type { KeyCode, ScancodeSet } from './ps2-keyboard/scancodes.ts';
export { KEY_CODES, TRANSLATION, isKeyCode, sequence } from './ps2-keyboard/scancodes.ts';
export type { Ps2MouseState } from './ps2-mouse/mouse.ts';
export { DeviceId, MOUSE_BUFFER_BYTES, MouseButton, MouseCommand, MouseReply, MouseStatus, Packet } from './ps2-mouse/commands.ts';
