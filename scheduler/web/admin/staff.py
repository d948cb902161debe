"""Admin: staff users, roles, passwords and API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_user

from scheduler.extensions import db
from scheduler.services.errors import ServiceError
from scheduler.staff import tokens, users
from scheduler.web.admin import bp
from scheduler.web.admin.forms import ActionForm, NewUserForm, PasswordForm, RoleForm


@bp.get("/staff")
def staff():
    """Every staff user with their tokens."""
    return render_template(
        "admin/staff.html",
        users=users.list_users(),
        tokens=tokens.list_tokens(),
        new_form=NewUserForm(),
        action=ActionForm(),
    )


@bp.post("/staff")
def staff_create():
    """Creates a staff user."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = users.create(
                form.email.data, form.role.data, form.password.data, name=form.name.data or "", actor=current_user
            )
            db.session.commit()
            flash(f"Created {user.role} {user.email}.", "info")
            return redirect(url_for("admin.staff"))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    return render_template(
        "admin/staff.html", users=users.list_users(), tokens=tokens.list_tokens(), new_form=form, action=ActionForm()
    ), 400


@bp.get("/staff/<int:user_id>")
def staff_user(user_id: int):
    """One user: role, password reset, activation, tokens."""
    user = users.get(user_id)
    return render_template(
        "admin/staff_user.html",
        user=user,
        tokens=tokens.list_tokens(user.id),
        role_form=RoleForm(role=user.role),
        password_form=PasswordForm(),
        action=ActionForm(),
    )


def _apply(user_id: int, change, done: str):
    """Runs one change with its CSRF check, commits, and says what happened."""
    if not ActionForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("admin.staff_user", user_id=user_id)), 400
    try:
        change()
        db.session.commit()
        _keep_own_session(user_id)
        flash(done, "info")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("admin.staff_user", user_id=user_id))


def _keep_own_session(user_id: int) -> None:
    """An admin who changed their own account (which ends its sessions) stays signed in here."""
    if user_id == current_user.id:
        login_user(users.get(user_id))


@bp.post("/staff/<int:user_id>/role")
def staff_role(user_id: int):
    """Changes a role."""
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Pick a role.", "error")
        return redirect(url_for("admin.staff_user", user_id=user_id)), 400
    return _apply(user_id, lambda: users.set_role(user_id, form.role.data, actor=current_user), "Role changed.")


@bp.post("/staff/<int:user_id>/deactivate")
def staff_deactivate(user_id: int):
    """Deactivates a user; they can no longer sign in or use tokens."""
    return _apply(user_id, lambda: users.set_active(user_id, False, actor=current_user), "User deactivated.")


@bp.post("/staff/<int:user_id>/activate")
def staff_activate(user_id: int):
    """Reactivates a user."""
    return _apply(user_id, lambda: users.set_active(user_id, True, actor=current_user), "User reactivated.")


@bp.post("/staff/<int:user_id>/password")
def staff_password(user_id: int):
    """Resets a password."""
    form = PasswordForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Password: {error}", "error")
        return redirect(url_for("admin.staff_user", user_id=user_id)), 400
    return _apply(
        user_id,
        lambda: users.reset_password(user_id, form.password.data, actor=current_user),
        "Password reset; the user's lock-out, if any, is lifted.",
    )


@bp.post("/staff/<int:user_id>/tokens")
def staff_issue_token(user_id: int):
    """Issues an API token and shows it once."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.staff_user", user_id=user_id)), 400
    user = users.get(user_id)
    token = tokens.issue_token(user, actor=current_user)
    db.session.commit()
    return render_template("admin/token_issued.html", user=user, token=token)


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    """Revokes an API token."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.staff")), 400
    try:
        row = tokens.revoke_token(token_id, actor=current_user)
        db.session.commit()
        flash(f"Token {row.prefix}… revoked.", "info")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("admin.staff"))
