// Hardhat 2 configuration for Xietong's local development chain.
//
// DEVELOPMENT ONLY: the mnemonic below is Hardhat's public test mnemonic. Every key derived
// from it is known to the world. The gateway accepts these keys only when XIETONG_ENV=local;
// never use them on a consortium network.
//
// The node binds 127.0.0.1 (`hardhat node --hostname 127.0.0.1`, see ledger/chain/node.py).
// Contracts are compiled by ledger/chain/compiler.py (py-solc-x + the npm `solc` package),
// not by Hardhat, so no compiler list is ever downloaded.
module.exports = {
  solidity: '0.8.28',
  networks: {
    hardhat: {
      chainId: 31337,
      accounts: {
        mnemonic: 'test test test test test test test test test test test junk',
        count: 20,
        accountsBalance: '10000000000000000000000',
      },
      mining: { auto: true },
      // Behave like a production node: a failing transaction is mined with status 0 instead
      // of being rejected at submission, so the gateway's failure handling is exercised.
      throwOnTransactionFailures: false,
    },
  },
};
