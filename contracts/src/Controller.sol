// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IManager} from "./Interfaces.sol";

/**
 * Dev stand-in for Livepeer's Controller: an owned, pausable name registry. Services are given
 * only this address and discover every other contract through `getContract(keccak256(name))`.
 * It starts paused, as on mainnet, so nothing moves until the deployment is fully wired.
 */
contract Controller {
    struct ContractInfo {
        address contractAddress;
        bytes20 gitCommitHash;
    }

    address public owner;
    bool public paused = true;
    mapping(bytes32 => ContractInfo) private registry;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Pause();
    event Unpause();
    event SetContractInfo(bytes32 id, address contractAddress, bytes20 gitCommitHash);

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "caller must be owner");
        _;
    }

    function transferOwnership(address _newOwner) external onlyOwner {
        require(_newOwner != address(0), "new owner is the zero address");
        emit OwnershipTransferred(owner, _newOwner);
        owner = _newOwner;
    }

    function pause() external onlyOwner {
        require(!paused, "system is paused");
        paused = true;
        emit Pause();
    }

    function unpause() external onlyOwner {
        require(paused, "system is not paused");
        paused = false;
        emit Unpause();
    }

    function setContractInfo(bytes32 _id, address _contractAddress, bytes20 _gitCommitHash) external onlyOwner {
        registry[_id] = ContractInfo(_contractAddress, _gitCommitHash);
        emit SetContractInfo(_id, _contractAddress, _gitCommitHash);
    }

    /// Points a registered contract at a new Controller (the migration path of Manager.setController).
    function updateController(bytes32 _id, address _controller) external onlyOwner {
        IManager(registry[_id].contractAddress).setController(_controller);
    }

    function getContractInfo(bytes32 _id) external view returns (address, bytes20) {
        ContractInfo storage info = registry[_id];
        return (info.contractAddress, info.gitCommitHash);
    }

    /// Zero address when `_id` is not registered.
    function getContract(bytes32 _id) external view returns (address) {
        return registry[_id].contractAddress;
    }
}
