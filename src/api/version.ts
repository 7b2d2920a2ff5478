/** The release this contract describes (package.json's version). */
export const API_VERSION = '0.1.0';
