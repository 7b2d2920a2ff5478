export { operatorRegistry, type Operator, type OperatorKeyView, type OperatorRegistry, type OperatorSession, type OperatorSettings } from './registry.js';
export { ROLES, isRole, roleAtLeast, lowerRole, type Role } from './roles.js';
export { OPERATOR_KEY_PATTERN } from './secrets.js';
export { PASSWORD_MIN, PASSWORD_MAX } from './password.js';
