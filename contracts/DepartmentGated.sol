// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/**
 * @title DepartmentGated
 * @notice Base for the consortium's service contracts: writes are reserved to operators of
 * active departments, as recorded by the {IDepartmentRegistry} fixed at deployment.
 * Membership errors (`DepartmentRegistryNotOperator`, `DepartmentRegistryDepartmentNotActive`,
 * `DepartmentRegistryUnknownDepartment`) come from the registry itself, so the rule and its
 * errors live in one place.
 */
abstract contract DepartmentGated {
    IDepartmentRegistry private immutable _registry;

    constructor(IDepartmentRegistry registry_) {
        _registry = registry_;
    }

    /// @notice The membership registry this contract defers to.
    function departmentRegistry() external view returns (IDepartmentRegistry) {
        return _registry;
    }

    /// @dev The active department operated by `account`; reverts otherwise.
    function _activeDepartmentOf(address account) internal view returns (bytes32) {
        return _registry.requireActiveOperator(account);
    }

    /// @dev Reverts unless `departmentId` is a known, active department.
    function _requireActive(bytes32 departmentId) internal view {
        _registry.requireActive(departmentId);
    }

    /// @dev True when `departmentId` is active.
    function _isActive(bytes32 departmentId) internal view returns (bool) {
        return _registry.isActive(departmentId);
    }
}
