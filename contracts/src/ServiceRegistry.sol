// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Manager} from "./Manager.sol";

/**
 * Dev stand-in for Livepeer's ServiceRegistry: each account publishes the URI it serves on
 * (an orchestrator's `-serviceAddr`), which discovery pairs with the BondingManager's pool.
 * Same ABI as mainnet. Anyone may set their own URI; being listed does not make one an
 * orchestrator, only being in the pool does. Like mainnet, it works while the system is paused.
 */
contract ServiceRegistry is Manager {
    mapping(address => string) private serviceURIs;

    event ServiceURIUpdate(address indexed addr, string serviceURI);

    constructor(address _controller) Manager(_controller) {}

    /// Sets the caller's URI; an empty string withdraws it.
    function setServiceURI(string calldata _serviceURI) external {
        serviceURIs[msg.sender] = _serviceURI;
        emit ServiceURIUpdate(msg.sender, _serviceURI);
    }

    /// Empty string for an account that never set one.
    function getServiceURI(address _addr) external view returns (string memory) {
        return serviceURIs[_addr];
    }
}
