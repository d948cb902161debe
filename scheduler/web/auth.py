"""Staff sign-in and sign-out, with a lock-out after repeated failures."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from scheduler.extensions import db
from scheduler.services import audit, clock, users
from scheduler.web.redirects import safe_next

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    """The sign-in form."""

    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=512)])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Shows and handles the sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("reception.day"))
    form = LoginForm()
    target = safe_next(request.args.get("next"))  # before anything is written
    status = 200
    if form.validate_on_submit():
        user = users.find_by_email(form.email.data)
        now = clock.now()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            flash(f"Too many failed sign-ins. This account is locked for {minutes} more minute(s).", "error")
            return render_template("auth/login.html", form=form), 429
        if users.verify_password(user, form.password.data) and user.active:
            user.failed_logins = 0
            user.locked_until = None
            audit.record("user.signed_in", "user", user.id, user)
            db.session.commit()
            login_user(user)
            return redirect(target)
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + timedelta(seconds=current_app.config["LOGIN_LOCKOUT_SECONDS"])
                user.failed_logins = 0
                audit.record("user.locked_out", "user", user.id, None, {"until": user.locked_until.isoformat()})
            db.session.commit()
        flash("That email and password do not match.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Signs out (a POST with the CSRF token, so a link elsewhere cannot sign anyone out)."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
