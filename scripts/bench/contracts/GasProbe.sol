// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title GasProbe
 * @notice Benchmark helper only (scripts/bench_gas.py): the gas a contract spends on a view call
 * of another contract (cold account and storage, call overhead included), without the 21,000 and
 * the calldata that a transaction carrying the check would pay on top. Used through `eth_call`.
 */
contract GasProbe {
    /// @notice Static-call `target` with `data`; return the gas it took, its success and output.
    function measure(address target, bytes calldata data)
        external
        view
        returns (uint256 gasUsed, bool success, bytes memory result)
    {
        uint256 before = gasleft();
        (success, result) = target.staticcall(data);
        gasUsed = before - gasleft();
    }
}
