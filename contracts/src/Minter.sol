// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Manager} from "./Manager.sol";
import {BONDING_MANAGER_ID, JOBS_MANAGER_ID, MINTER_ID} from "./ContractIds.sol";

/**
 * Dev stand-in for Livepeer's Minter, reduced to its role as the protocol's ETH vault: the
 * TicketBroker (registered as "JobsManager") parks every deposit and reserve here, and withdrawals
 * and fee payouts are paid from here. So "the balance lives at the Minter" holds on dev and mainnet.
 */
contract Minter is Manager {
    uint256 private constant NOT_ENTERED = 1;
    uint256 private constant ENTERED = 2;
    uint256 private reentrancyStatus = NOT_ENTERED;

    constructor(address _controller) Manager(_controller) {}

    modifier onlyMinterOrJobsManager() {
        require(
            msg.sender == lookup(MINTER_ID) || msg.sender == lookup(JOBS_MANAGER_ID),
            "msg.sender not Minter or JobsManager"
        );
        _;
    }

    modifier onlyBondingManagerOrJobsManager() {
        require(
            msg.sender == lookup(BONDING_MANAGER_ID) || msg.sender == lookup(JOBS_MANAGER_ID),
            "msg.sender not BondingManager or JobsManager"
        );
        _;
    }

    /// Mainnet pays with `transfer` (2300 gas); we use `call` so contract recipients work, hence the guard.
    modifier nonReentrant() {
        require(reentrancyStatus == NOT_ENTERED, "reentrant call");
        reentrancyStatus = ENTERED;
        _;
        reentrancyStatus = NOT_ENTERED;
    }

    function depositETH() external payable onlyMinterOrJobsManager returns (bool) {
        return true;
    }

    function trustedWithdrawETH(address payable _to, uint256 _amount)
        external
        nonReentrant
        onlyBondingManagerOrJobsManager
        whenSystemNotPaused
    {
        (bool sent, ) = _to.call{value: _amount}("");
        require(sent, "ETH transfer failed");
    }
}
