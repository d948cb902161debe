"""Staff sign-in and sign-out, with a lock-out after repeated failures."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from scheduler.extensions import db
from scheduler.services import clock
from scheduler.staff import signin, users
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
        outcome = signin.attempt(form.email.data, form.password.data)
        if outcome.user is not None:
            login_user(outcome.user)
            return redirect(target)
        if outcome.locked_until is not None:
            minutes = max(1, int((outcome.locked_until - clock.now()).total_seconds() // 60) + 1)
            flash(f"Too many failed sign-ins. This account is locked for {minutes} more minute(s).", "error")
            return render_template("auth/login.html", form=form), 429
        flash("That email and password do not match.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Signs out (a POST with the CSRF token, so a link elsewhere cannot sign anyone out).

    Every session of the user ends, not only this one: a copy of the cookie opens nothing after.
    """
    if current_user.is_authenticated:
        users.end_sessions(current_user)
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
