/** The files of a state dir that more than one module names. */
export const STATE_FILE = 'bot.sqlite'
