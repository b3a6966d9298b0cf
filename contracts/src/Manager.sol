// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IController} from "./Interfaces.sol";

/**
 * Base of every protocol contract: it knows the Controller, asks it for the pause flag and the
 * owner, and resolves sibling contracts by registry name. `controller` must stay the only state
 * variable here so the TicketBroker keeps Livepeer's storage layout (controller in slot 0).
 */
abstract contract Manager {
    IController public controller;

    event SetController(address controller);
    event ParameterUpdate(string param);

    constructor(address _controller) {
        controller = IController(_controller);
    }

    modifier onlyController() {
        require(msg.sender == address(controller), "caller must be Controller");
        _;
    }

    modifier onlyControllerOwner() {
        require(msg.sender == controller.owner(), "caller must be Controller owner");
        _;
    }

    modifier whenSystemNotPaused() {
        require(!controller.paused(), "system is paused");
        _;
    }

    /// Lets the Controller migrate this contract to a new Controller (Controller.updateController).
    function setController(address _controller) external onlyController {
        controller = IController(_controller);
        emit SetController(_controller);
    }

    /// Looked up on every use, never cached, so re-registering a dependency takes effect at once.
    function lookup(bytes32 _id) internal view returns (address) {
        return controller.getContract(_id);
    }
}
