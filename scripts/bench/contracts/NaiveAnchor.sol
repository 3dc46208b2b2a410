// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title NaiveAnchor
 * @notice Benchmark baseline only (scripts/bench_gas.py), not part of Xietong: one storage slot
 * per anchored hash, holding the block time it was anchored at. A check is one SLOAD.
 */
contract NaiveAnchor {
    /// @notice When `hash` was anchored (block timestamp); 0 if never.
    mapping(bytes32 hash => uint256 time) public anchoredAt;

    /// @notice `hash` was anchored before, at `time`.
    error NaiveAnchorAlreadyAnchored(bytes32 hash, uint256 time);

    /// @notice Anchor one hash.
    function anchor(bytes32 hash) external {
        _anchor(hash);
    }

    /// @notice Anchor several hashes in one transaction.
    function anchorBatch(bytes32[] calldata hashes) external {
        uint256 count = hashes.length;
        for (uint256 i = 0; i < count; i++) {
            _anchor(hashes[i]);
        }
    }

    function _anchor(bytes32 hash) private {
        uint256 time = anchoredAt[hash];
        if (time != 0) revert NaiveAnchorAlreadyAnchored(hash, time);
        anchoredAt[hash] = block.timestamp;
    }
}
